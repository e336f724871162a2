export { decodeFrame, decodeFrameAtSize, decodeParsed, decodeStoredFrame, displayParsed, type DecodedFrame, type StoredFrameOf } from './decode';
export { imageFromHeader, parseImage, type ImageAttributes, type ParsedImage } from './parse';
export { PixelDataError, UnsupportedTransferSyntaxError } from './errors';
export { encodePng } from './png';
export { renderMontage, renderThumbnail, thumbnailOfDisplay } from './thumbnail';
export { isSupportedTransferSyntax, supportedTransferSyntaxes, type TransferSyntaxInfo } from './transferSyntax';
export { grayOf, toDisplay8, toGray8, type Image8 } from './window';
export { assertDicomSize, assertRasterSize, decodeLimits, DecodeLimitError, dicomSizeProblem, setDecodeLimits, type DecodeLimits } from './limits';
export { nativeFrame } from './nativeFrame';
