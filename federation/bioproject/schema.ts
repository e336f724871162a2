import { parse } from 'graphql';

/** The BioProject subgraph owns the BioProject type; the hub adds imaging fields to it. */
export const bioProjectTypeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  """A BioProject: the umbrella record of a research effort at NGDC (PRJCA…) or INSDC (PRJNA…, PRJEB…, PRJDB…)."""
  type BioProject @key(fields: "accession") {
    """BioProject accession."""
    accession: String!
    title: String!
    description: String!
    organism: BioProjectOrganism!
    """Data types the project produces (e.g. "Genome sequencing", "Imaging")."""
    dataTypes: [String!]!
    """Relevance (Medical, Agricultural, Environmental, …)."""
    relevance: String
    """Sample scope (Monoisolate, Multiisolate, Multi-species, …)."""
    sampleScope: String
    submitterOrganization: String
    grants: [BioProjectGrant!]!
    publications: [BioProjectPublication!]!
    """Public release date, YYYY-MM-DD."""
    releaseDate: String
  }

  type BioProjectOrganism {
    """Scientific name."""
    name: String!
    """NCBI Taxonomy identifier."""
    taxonomyId: Int!
  }

  type BioProjectGrant {
    agency: String!
    number: String!
    title: String
  }

  type BioProjectPublication {
    title: String!
    journal: String
    year: Int
    pmid: String
    doi: String
  }

  type Query {
    """A BioProject by accession; null when the source holds none."""
    bioProject(accession: String!): BioProject
  }
`);
