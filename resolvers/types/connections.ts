import { Collection, Image, Individual, Series, Study } from '../../src/entities/index.js';
import { Connection } from './connection.js';

export const CollectionConnection = Connection(Collection, 'Collection');
export const IndividualConnection = Connection(Individual, 'Individual');
export const StudyConnection = Connection(Study, 'Study');
export const SeriesConnection = Connection(Series, 'Series');
export const ImageConnection = Connection(Image, 'Image');
