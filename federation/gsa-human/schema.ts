import { parse } from 'graphql';

/** The GSA-Human subgraph owns GsaHumanIndividual; the hub adds imaging fields to it. */
export const gsaHumanTypeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  """An individual in the Genome Sequence Archive for Human (GSA-Human, NGDC), released in an HRA dataset."""
  type GsaHumanIndividual @key(fields: "accession") {
    """Individual accession, HRI followed by six digits."""
    accession: String!
    """The submitter's identifier for the individual."""
    individualName: String!
    """The HRA dataset that releases this individual's data."""
    dataset: GsaHumanDataset!
    sex: String
    age: Int
    disease: String
    """BioSample accessions (SAMC…) of this individual's samples."""
    bioSamples: [String!]!
    experiments: [GsaHumanExperiment!]!
    """All runs of all experiments."""
    runs: [GsaHumanRun!]!
    """Public release date, YYYY-MM-DD."""
    releaseDate: String
  }

  """A GSA-Human dataset (HRA…): the unit of release and of data-access control."""
  type GsaHumanDataset {
    accession: String!
    title: String!
    """The BioProject the dataset belongs to."""
    bioProjectAccession: String!
    accessType: GsaHumanAccessType!
  }

  """OPEN data download freely; CONTROLLED data need an approved request to the data access committee."""
  enum GsaHumanAccessType { OPEN CONTROLLED }

  """An experiment (HRX…): one library of one BioSample, sequenced on one platform."""
  type GsaHumanExperiment {
    accession: String!
    bioSample: String!
    """Sequencing platform (instrument model)."""
    platform: String!
    """Library strategy (WXS, WGS, RNA-Seq, Targeted-Capture, …)."""
    libraryStrategy: String!
    librarySource: String!
    librarySelection: String!
    """PAIRED or SINGLE."""
    libraryLayout: String!
    runs: [GsaHumanRun!]!
  }

  """A run (HRR…) and its data files."""
  type GsaHumanRun {
    accession: String!
    """The experiment this run belongs to."""
    experimentAccession: String!
    platform: String!
    fileType: String!
    fileNames: [String!]!
    """Total size of the run's files in bytes (a Float: runs outgrow 32-bit sizes)."""
    fileSize: Float!
    readCount: Float!
  }

  type Query {
    """A GSA-Human individual by accession (HRI…); null when the source holds none."""
    gsaHumanIndividual(accession: String!): GsaHumanIndividual
  }
`);
