import { JSONObjectResolver } from 'graphql-scalars';
import { Arg, Args, Ctx, FieldResolver, Int, Mutation, Resolver, Root } from 'type-graphql';
import { mayViewPixelsOfCollection } from '../../src/access/pixels.js';
import { assertAccession } from '../../src/accessions.js';
import { MAX_PAGE_SIZE } from '../../src/browse/pagination.js';
import type { RequestContext } from '../../src/context.js';
import { Collection, CollectionDataset, CollectionVersion, ImageTombstone } from '../../src/entities/index.js';
import { IdentifierKind } from '../../src/entities/CollectionVersion.js';
import { IOCM_CODES, WithdrawalReason } from '../../src/entities/ImageTombstone.js';
import { drsUri } from '../../src/ga4gh/drs/ids.js';
import { citation } from '../../src/releases/datacite.js';
import { ReleasesModule } from '../../src/releases/module.js';
import { ReleaseService } from '../../src/releases/ReleaseService.js';
import { assertVersionNumber, notFound, versionId } from '../../src/releases/versionId.js';
import { DownloadLink } from '../access/types.js';
import { fromPage } from '../types/connection.js';
import { PageArgs } from '../types/PageArgs.js';
import { VersionFileConnection, VersionSeries } from './types.js';

const releases = (ctx: RequestContext) => new ReleaseService(ctx.em, ctx.user);

// Default pages, small enough that a query nesting a version's files and withdrawals under
// `versions` stays within the guard's cost budget (it multiplies nested lists by `first`).
const VERSIONS_PAGE = 20;
const WITHDRAWN_PAGE = 100;

@Resolver(() => Collection)
export class CollectionVersionsResolver {
  @FieldResolver(() => [CollectionVersion], { description: 'Released versions of this collection, newest first (empty until it is released): at most `first`, before version `before` (pass the last number for the next ones).' })
  versions(@Root() collection: Collection, @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { defaultValue: VERSIONS_PAGE, description: `How many versions (0 to ${MAX_PAGE_SIZE}).` }) first: number,
    @Arg('before', () => Int, { nullable: true, description: 'Only versions numbered below this one.' }) before: number | null) {
    return releases(ctx).versions(collection.id, first, before);
  }

  @FieldResolver(() => CollectionVersion, { nullable: true, description: 'One version by number (1, 2, …); null when there is no such version.' })
  version(@Root() collection: Collection, @Arg('number', () => Int, { description: 'Version number.' }) number: number, @Ctx() ctx: RequestContext) {
    return releases(ctx).version(collection.id, number);
  }

  @FieldResolver(() => [CollectionDataset], { description: 'Datasets at other repositories this controlled collection declares equivalent (GA4GH passport visas for them grant its files).' })
  equivalentDatasets(@Root() collection: Collection, @Ctx() ctx: RequestContext) {
    return releases(ctx).datasetsOf(collection.id);
  }
}

@Resolver(() => CollectionVersion)
export class CollectionVersionResolver {
  @FieldResolver(() => String, { description: 'The collection accession.' })
  async accession(@Root() version: CollectionVersion, @Ctx() ctx: RequestContext) {
    return (await ctx.em.findOneOrFail(Collection, { id: version.collection.id }, { fields: ['accession'] })).accession;
  }

  @FieldResolver(() => String, { nullable: true, description: 'The DOI, when one was minted at DataCite; null otherwise (see identifier and identifierKind).' })
  doi(@Root() version: CollectionVersion) {
    return version.identifierKind === IdentifierKind.DOI ? version.identifier : null;
  }

  @FieldResolver(() => JSONObjectResolver, { description: 'DataCite metadata (the attributes of a DataCite REST API `dois` resource): creators, titles, publisher, publicationYear, types (Dataset), relatedIdentifiers (BioProject, previous version), …' })
  dataCite(@Root() version: CollectionVersion) {
    return version.dataCite;
  }

  @FieldResolver(() => String, { description: 'How to cite this version: Creators (Year). Title (Version n) [Data set]. Publisher. DOI (or the local identifier, labelled).' })
  citation(@Root() version: CollectionVersion) {
    return citation(version.dataCite, version.identifierKind, version.identifier);
  }

  @FieldResolver(() => String, { description: 'The version as a GA4GH DRS bundle: drs://<host>/OBIA0001.v2.' })
  async drsUri(@Root() version: CollectionVersion, @Ctx() ctx: RequestContext) {
    return drsUri(ReleasesModule.of(ctx.em).drsHost, versionId(await this.accession(version, ctx), version.number));
  }

  @FieldResolver(() => VersionFileConnection, { description: 'The version\'s files in manifest order, optionally of one series.' })
  async files(@Root() version: CollectionVersion, @Args() page: PageArgs,
    @Arg('series', () => String, { nullable: true, description: 'Only this SeriesInstanceUID.' }) series: string | null, @Ctx() ctx: RequestContext) {
    const files = await releases(ctx).files(version, { ...page, series });
    // A digest confirms whether someone holds a given file: shown only to who may fetch the
    // collection's pixels, as Image.sha256 is (a controlled collection: with an approved request).
    if (!(await mayViewPixelsOfCollection(ctx, version.collection.id))) for (const f of files.nodes) (f as { sha256: string | null }).sha256 = null;
    return fromPage(VersionFileConnection, files);
  }

  @FieldResolver(() => [VersionSeries], { description: 'The series this version holds, with their image counts in it.' })
  series(@Root() version: CollectionVersion, @Ctx() ctx: RequestContext) {
    return releases(ctx).series(version);
  }

  @FieldResolver(() => [ImageTombstone], { description: 'Images withdrawn in or before this version, with the reasons: listed, never silent holes. In SOPInstanceUID order, at most `first`, after the UID `after` (pass the last one for the next ones).' })
  withdrawn(@Root() version: CollectionVersion, @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { defaultValue: WITHDRAWN_PAGE, description: `How many (0 to ${MAX_PAGE_SIZE}).` }) first: number,
    @Arg('after', () => String, { nullable: true, description: 'Only images whose SOPInstanceUID sorts after this one.' }) after: string | null) {
    return releases(ctx).tombstones(version, first, after);
  }
}

@Resolver(() => ImageTombstone)
export class ImageTombstoneResolver {
  @FieldResolver(() => String, { nullable: true, description: 'The DICOM code (DCM) of the IOCM rejection note, when the reason is one (113001, 113037, 113038, 113039).' })
  iocmCode(@Root() tombstone: ImageTombstone) {
    return IOCM_CODES[tombstone.reason] ?? null;
  }
}

@Resolver()
export class ReleaseMutationsResolver {
  @Mutation(() => ImageTombstone, { description: 'Withdraws an image (IOCM-style): it leaves the live collection, a tombstone with the reason stays, and a released collection gets its next version at once; earlier versions keep it. Curators only.' })
  withdrawImage(@Arg('uid', { description: 'SOPInstanceUID.' }) uid: string,
    @Arg('reason', () => WithdrawalReason, { description: 'Why.' }) reason: WithdrawalReason,
    @Arg('note', { description: 'What is wrong with it, for the record.' }) note: string, @Ctx() ctx: RequestContext) {
    return releases(ctx).withdrawImage(uid, reason, note);
  }

  @Mutation(() => CollectionDataset, { description: 'Declares a dataset at another repository equivalent to a controlled collection, so GA4GH ControlledAccessGrants visas for it grant the collection\'s files. Its submitter or a curator.' })
  declareEquivalentDataset(@Arg('collection', { description: 'Collection accession.' }) collection: string,
    @Arg('dataset', { description: 'The dataset id visas name (e.g. HRA000001, phs000001.v1.p1).' }) dataset: string,
    @Arg('repository', { description: 'Where it lives: GSA-Human, dbGaP, EGA, …' }) repository: string, @Ctx() ctx: RequestContext) {
    return releases(ctx).declareEquivalentDataset(collection, dataset, repository);
  }

  @Mutation(() => DownloadLink, { description: 'A signed, expiring link to a zip of one collection version exactly as released (with its manifest), bound to the caller.' })
  async createVersionDownloadLink(@Arg('collection', { description: 'Collection accession.' }) collection: string,
    @Arg('number', () => Int, { description: 'Version number.' }) number: number, @Ctx() ctx: RequestContext) {
    assertAccession('collection', collection);
    assertVersionNumber(number);
    const { url, expiresAt } = await ctx.access.downloads.createLinkFor('version', versionId(collection, number));
    return { url, expiresAt };
  }

  @Mutation(() => CollectionVersion, { description: 'Retries registering a version\'s DOI at DataCite after a failure (identifierKind MINT_PENDING). Curators only.' })
  async mintVersionDoi(@Arg('collection', { description: 'Collection accession.' }) collection: string,
    @Arg('number', () => Int, { description: 'Version number.' }) number: number, @Ctx() ctx: RequestContext) {
    const version = await releases(ctx).retryMint(collection, number);
    if (!version) throw notFound(`no version ${number} of ${collection}`);
    return version;
  }
}
