import type { NonEmptyArray } from 'type-graphql';
import { AccessRequestResolver } from './access/accessRequest.resolver.js';
import { CollectionAccessResolver } from './access/collectionAccess.resolver.js';
import { DownloadResolver } from './access/download.resolver.js';
import { CollectionResolver } from './collection.resolver.js';
import { ImageResolver } from './image.resolver.js';
import { IndividualResolver } from './individual.resolver.js';
import { LookupResolver } from './lookup.resolver.js';
import { ImageBurnedInTextResolver } from './qc/burnedInText.resolver.js';
import { CurationResolver } from './qc/curation.resolver.js';
import { ImageThumbnailResolver, SeriesPreviewResolver } from './qc/preview.resolver.js';
import { FileCurationResolver, SeriesReviewResolver, StudyReviewResolver } from './qc/review.resolver.js';
import { QuarantineReasonResolver } from './qc/quarantineReason.resolver.js';
import { SubmissionQcResolver } from './qc/submissionQc.resolver.js';
import { SeriesResolver } from './series.resolver.js';
import { SimilarImagesResolver } from './similarImages.resolver.js';
import { StatisticsResolver } from './statistics.resolver.js';
import { StudyResolver } from './study.resolver.js';
import { SubmissionResolver } from './submission.resolver.js';
import { ViewerResolver } from './viewer.resolver.js';
import { ImageDrsUriResolver, SeriesDrsUriResolver } from './releases/drsUri.resolver.js';
import { CollectionVersionResolver, CollectionVersionsResolver, ImageTombstoneResolver, ReleaseMutationsResolver } from './releases/versions.resolver.js';

export const resolvers: NonEmptyArray<Function> = [
  CollectionResolver, IndividualResolver, StudyResolver, SeriesResolver, ImageResolver,
  LookupResolver, StatisticsResolver, SimilarImagesResolver, ViewerResolver,
  SubmissionResolver,
  // Access control, requests and downloads (issue 5).
  CollectionAccessResolver, AccessRequestResolver, DownloadResolver,
  // Quality control and curation (issue 4).
  CurationResolver, SubmissionQcResolver, SeriesReviewResolver, StudyReviewResolver, FileCurationResolver,
  ImageThumbnailResolver, SeriesPreviewResolver, QuarantineReasonResolver, ImageBurnedInTextResolver,
  // Citable releases and GA4GH DRS ids (issue 19).
  CollectionVersionsResolver, CollectionVersionResolver, ImageTombstoneResolver, ReleaseMutationsResolver, ImageDrsUriResolver, SeriesDrsUriResolver,
];
