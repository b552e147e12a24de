import { MediaType, parseManifest, selectPlatform } from './manifest';

const json = (o: unknown) => Buffer.from(JSON.stringify(o));
const desc = (digest: string, os: string, architecture: string, variant?: string) => ({
  mediaType: MediaType.ociManifest,
  digest,
  size: 1,
  platform: { os, architecture, ...(variant ? { variant } : {}) },
});

describe('manifests', () => {
  it('reads an OCI index and picks the linux/amd64 entry', () => {
    const parsed = parseManifest(
      json({
        schemaVersion: 2,
        mediaType: MediaType.ociIndex,
        manifests: [desc('sha256:arm', 'linux', 'arm64'), desc('sha256:amd', 'linux', 'amd64')],
      }),
      undefined,
      'x',
    );
    expect(parsed.kind).toBe('index');
    if (parsed.kind === 'index') {
      expect(selectPlatform(parsed.index, 'x', { os: 'linux', architecture: 'amd64' }).digest).toBe(
        'sha256:amd',
      );
    }
  });

  it('says which platforms an index offers when none fits', () => {
    const index = { mediaType: MediaType.dockerList, manifests: [desc('sha256:w', 'windows', 'amd64')] };
    expect(() => selectPlatform(index, 'img', { os: 'linux', architecture: 'amd64' })).toThrow(
      /no linux\/amd64 image \(offered: windows\/amd64\)/,
    );
  });

  it('reads a Docker schema 2 manifest with the media type from the Content-Type header', () => {
    const parsed = parseManifest(
      json({
        schemaVersion: 2,
        config: { digest: 'sha256:c', size: 2, mediaType: MediaType.dockerConfig },
        layers: [],
      }),
      `${MediaType.dockerManifest}; charset=utf-8`,
      'x',
    );
    expect(parsed).toMatchObject({ kind: 'manifest', manifest: { mediaType: MediaType.dockerManifest } });
  });

  it('refuses schema 1 manifests with a clear message', () => {
    expect(() => parseManifest(json({ schemaVersion: 1, fsLayers: [] }), undefined, 'old')).toThrow(
      /schema 1/,
    );
  });

  it('refuses bytes that are not JSON', () => {
    expect(() => parseManifest(Buffer.from('<html>'), undefined, 'x')).toThrow(/not JSON/);
  });
});
