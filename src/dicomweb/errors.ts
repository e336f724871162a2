// DICOMweb answers in the archive's one error vocabulary (src/errors.ts); these are the names
// PS3.18's status table uses, so the route code reads like the standard.
export {
  BadUserInputError as BadRequest,
  ConflictError as Conflict,
  NotAcceptableError as NotAcceptable,
  NotFoundError as NotFound,
  UnsupportedMediaTypeError as UnsupportedMediaType,
} from '../errors.js';
