// ImageStatus and ListImages: the CRI view of image records. An unknown image is a success with no
// image (the kubelet pulls on that answer). The user comes from the config's User: the part
// before ':' is a uid when numeric, else a user name.
import type { ImageServiceHandlers } from '../gen/runtime/v1/ImageService';
import type { Image } from '../gen/runtime/v1/Image';
import type { ImageRecord, Images } from '../image';
import type { ServiceImpl } from './rpc';

export function userOfImage(user: string | undefined): { uid?: string; username: string } {
  if (!user) return { username: '' };
  const name = user.split(':')[0];
  return /^\d+$/.test(name) ? { uid: name, username: '' } : { username: name };
}

function toCriImage(image: ImageRecord): Image {
  const { uid, username } = userOfImage(image.config.User);
  return {
    id: image.id,
    repo_tags: image.repoTags,
    repo_digests: image.repoDigests,
    size: String(image.size),
    uid: uid === undefined ? null : { value: uid },
    username,
    spec: { image: image.id, annotations: {} },
    pinned: image.pinned,
  };
}

export function imageStatusService(images: Images): ServiceImpl<ImageServiceHandlers> {
  return {
    ImageStatus: async (req) => {
      const reference = req.image?.image ?? '';
      const image = reference ? await images.resolve(reference) : undefined;
      if (!image) return { image: null, info: {} };
      const info: Record<string, string> = req.verbose
        ? {
            info: JSON.stringify({
              id: image.id,
              manifestDigest: image.manifestDigest,
              chainIds: image.layers.map((l) => l.chainId),
              lowerDirs: images.lowerDirs(image),
              imageSpec: { config: image.config },
            }),
          }
        : {};
      return { image: toCriImage(image), info };
    },
    ListImages: async (req) => {
      const wanted = req.filter?.image?.image;
      if (wanted) {
        const image = await images.resolve(wanted);
        return { images: image ? [toCriImage(image)] : [] };
      }
      return { images: (await images.list()).map(toCriImage) };
    },
  };
}
