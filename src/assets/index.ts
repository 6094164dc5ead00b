export { createImageFetcher, imageFetcherDefaults, type FetchedImage, type ImageContentType, type ImageFetcher, type ImageFetcherOptions, type ImageRequest } from './fetchImage.js';
export { createAddressGuard, isPublicAddress, type AddressGuard, type AddressGuardOptions, type ResolveAll } from './addressGuard.js';
export { StaticResolver, type StaticResource, type StaticResolverOptions } from './resolver.js';
