import { AccessionCounter } from './AccessionCounter.js';
import { Collection } from './Collection.js';
import { Image } from './Image.js';
import { Individual } from './Individual.js';
import { Series } from './Series.js';
import { Study } from './Study.js';

export { AccessionCounter, Collection, Image, Individual, Series, Study };

/** Every entity the ORM manages; later modules append theirs here. */
export const ENTITIES = [AccessionCounter, Collection, Individual, Study, Series, Image];
