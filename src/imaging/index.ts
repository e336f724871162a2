export { decodeFrame, decodeFrameAtSize, type DecodedFrame } from './decode';
export { PixelDataError, UnsupportedTransferSyntaxError } from './errors';
export { encodePng } from './png';
export { renderMontage, renderThumbnail } from './thumbnail';
export { isSupportedTransferSyntax, supportedTransferSyntaxes, type TransferSyntaxInfo } from './transferSyntax';
export { toDisplay8, toGray8, type Image8 } from './window';
