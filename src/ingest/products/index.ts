// THE registry of derived products: the worker runs their worker halves over every
// de-identified file, the derive stage their main-thread halves, in this order. A new product
// (DICOM JSON metadata, OCR of burned-in text …) is one file beside these and one line here.
import { burnedInText } from './burnedInText.js';
import { census } from './census.js';
import { dicomJson } from './dicomJson.js';
import { hashCode } from './hashCode.js';
import type { DerivedProduct, ProductSettings } from './product.js';
import { thumbnail } from './thumbnail.js';

// burnedInText first: it may replace the file (redacted pixels) the others are made from.
export const PRODUCTS: readonly DerivedProduct<any>[] = [burnedInText, census, thumbnail, hashCode, dicomJson];

/** The names of the products an archive with these settings makes (what a worker task asks for). */
export function wantedProducts(settings: ProductSettings): string[] {
  return PRODUCTS.filter((p) => p.wanted(settings)).map((p) => p.name);
}

export function productNamed(name: string): DerivedProduct<any> | undefined {
  return PRODUCTS.find((p) => p.name === name);
}

export type { DerivedProduct, DeriveSource, ProductEnv, ProductResult, ProductSettings } from './product.js';
