export { createImageFetcher, type ImageFetcher, type ImageRequest } from './fetchImage.js';
export { type ImageFetcherOptions } from './imageFetcherOptions.js';
export type { FetchedImage, ImageContentType } from './normalizeImage.js';
export { createAddressGuard, isPublicAddress, type AddressGuard, type AddressGuardOptions, type ResolveAll } from './addressGuard.js';
export { StaticResolver, type StaticResource, type StaticResolverOptions } from './resolver.js';
export { cropOf, type ImageCrop } from './crop.js';
