// PullImage: pulls through the image subsystem (mirrors, auth, digest checks) and answers with the
// image id, the config digest, as containerd does. The RPC's deadline cancels the pull.
import type { ImageServiceHandlers } from '../gen/runtime/v1/ImageService';
import { invalidArgument } from '../common/errors';
import { credentialsFromAuthConfig, Images } from '../image';
import type { ServiceImpl } from './rpc';

export function imagePullService(images: Images): ServiceImpl<ImageServiceHandlers> {
  return {
    PullImage: async (req, ctx) => {
      const reference = req.image?.image ?? '';
      if (!reference) throw invalidArgument('Cannot pull an image: the request names no image');
      const creds = credentialsFromAuthConfig(req.auth);
      const image = await images.pull(reference, { creds, signal: ctx.signal });
      return { image_ref: image.id };
    },
  };
}
