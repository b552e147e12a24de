import { MediaType, parseImageConfig, parseManifest, selectPlatform } from './manifest';

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

  const layer = { mediaType: MediaType.ociLayerGzip, digest: 'sha256:l1', size: 10 };
  const manifest = (over: Record<string, unknown>) =>
    json({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: 'sha256:c', size: 2 },
      layers: [layer],
      ...over,
    });

  it.each([
    [
      'a layer size that is not a number',
      { layers: [{ ...layer, size: '10' }] },
      /layers\.0\.size: Expected number/,
    ],
    ['a negative layer size', { layers: [{ ...layer, size: -1 }] }, /layers\.0\.size: not a byte count/],
    ['a fractional config size', { config: { ...layer, size: 1.5 } }, /config\.size: not a byte count/],
    [
      'a layer without digest',
      { layers: [{ mediaType: layer.mediaType, size: 1 }] },
      /layers\.0\.digest: Required/,
    ],
    [
      'a digest that walks out of blobs/',
      { layers: [{ ...layer, digest: 'sha256:../../etc' }] },
      /layers\.0\.digest: not a digest/,
    ],
    ['layers that are not a list', { layers: { 0: layer } }, /layers: Expected array/],
    ['a config that is missing', { config: undefined }, /config: Required/],
  ])('refuses a manifest with %s, naming the field', (_what, over, message) => {
    expect(() => parseManifest(manifest(over), undefined, 'img')).toThrow(
      expect.objectContaining({ kind: 'InvalidArgument', message: expect.stringMatching(message) }),
    );
  });

  it('refuses an index whose entry has no size, naming the entry', () => {
    const index = {
      mediaType: MediaType.ociIndex,
      manifests: [{ mediaType: MediaType.ociManifest, digest: 'sha256:a' }],
    };
    expect(() => parseManifest(json(index), undefined, 'img')).toThrow(/manifests\.0\.size: Required/);
  });

  it('refuses a manifest that is a JSON array rather than an object', () => {
    expect(() => parseManifest(json([1]), undefined, 'img')).toThrow(/not a JSON object/);
  });
});

describe('image configs', () => {
  const config = (over: Record<string, unknown>) =>
    json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: ['sha256:d'] }, ...over });

  it("reads Docker's nulls as absent and keeps fields the runtime does not read", () => {
    const parsed = parseImageConfig(
      config({
        config: { Env: null, Entrypoint: null, Cmd: ['sh'], Labels: null, Healthcheck: { Test: ['x'] } },
      }),
      'img',
    );
    expect(parsed.config).toEqual({ Entrypoint: null, Cmd: ['sh'], Healthcheck: { Test: ['x'] } });
    expect(parsed.rootfs.diff_ids).toEqual(['sha256:d']);
  });

  it.each([
    ['no rootfs', { rootfs: undefined }, /rootfs: Required/],
    [
      'a diff id that is not a digest',
      { rootfs: { type: 'layers', diff_ids: ['x'] } },
      /rootfs\.diff_ids\.0: not a digest/,
    ],
    ['Env as one string', { config: { Env: 'PATH=/bin' } }, /config\.Env: Expected array/],
    ['a number in Cmd', { config: { Cmd: ['sh', 1] } }, /config\.Cmd\.1: Expected string/],
    ['a label that is not a string', { config: { Labels: { a: 1 } } }, /config\.Labels\.a: Expected string/],
    ['User as a number', { config: { User: 0 } }, /config\.User: Expected string/],
  ])('refuses a config with %s, naming the field', (_what, over, message) => {
    expect(() => parseImageConfig(config(over), 'img')).toThrow(
      expect.objectContaining({ kind: 'InvalidArgument', message: expect.stringMatching(message) }),
    );
  });
});
