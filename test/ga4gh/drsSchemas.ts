/**
 * JSON Schemas of the GA4GH DRS 1.4.0 responses, written from the spec's definitions:
 * ga4gh/data-repository-service-schemas, tag drs-1.4.0,
 *   openapi/data_repository_service.openapi.yaml and openapi/components/schemas/
 *   {DrsObject, AccessMethod, AccessURL, Authorizations, BulkAccessURL, Checksum, ContentsObject,
 *    DrsService, Error, summary, unresolved}.yaml, responses/{200OkDrsObjects, 200OkAccesses,
 *    200OkBulkAuthorizations, 200ServiceInfo}.yaml;
 * and ga4gh-discovery/ga4gh-service-info v1.0.0 service-info.yaml (Service, ServiceType, Organization).
 * Required properties and enums are the spec's; `format` keywords are checked with ajv-formats.
 */
const checksum = {
  type: 'object', required: ['checksum', 'type'],
  properties: { checksum: { type: 'string' }, type: { type: 'string' } },
};
const authorizations = {
  type: 'object',
  properties: {
    drs_object_id: { type: 'string' },
    supported_types: { type: 'array', items: { type: 'string', enum: ['None', 'BasicAuth', 'BearerAuth', 'PassportAuth'] } },
    passport_auth_issuers: { type: 'array', items: { type: 'string' } },
    bearer_auth_issuers: { type: 'array', items: { type: 'string' } },
  },
};
const accessUrl = {
  type: 'object', required: ['url'],
  properties: { url: { type: 'string' }, headers: { type: 'array', items: { type: 'string' } } },
};
const accessMethod = {
  type: 'object', required: ['type'],
  properties: {
    type: { type: 'string', enum: ['s3', 'gs', 'ftp', 'gsiftp', 'globus', 'htsget', 'https', 'file'] },
    access_url: accessUrl,
    access_id: { type: 'string' },
    region: { type: 'string' },
    authorizations,
  },
  // "at least one of access_url and access_id must be provided"
  anyOf: [{ required: ['access_url'] }, { required: ['access_id'] }],
};
const contentsObject: any = {
  $id: 'ContentsObject',
  type: 'object', required: ['name'],
  properties: {
    name: { type: 'string' },
    id: { type: 'string' },
    drs_uri: { type: 'array', items: { type: 'string' } },
    contents: { type: 'array', items: { $ref: 'ContentsObject' } },
  },
};
export const drsObject = {
  $id: 'DrsObject',
  type: 'object', required: ['id', 'self_uri', 'size', 'created_time', 'checksums'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    self_uri: { type: 'string' },
    size: { type: 'integer', format: 'int64' },
    created_time: { type: 'string', format: 'date-time' },
    updated_time: { type: 'string', format: 'date-time' },
    version: { type: 'string' },
    mime_type: { type: 'string' },
    checksums: { type: 'array', minItems: 1, items: checksum },
    access_methods: { type: 'array', minItems: 1, items: accessMethod },
    contents: { type: 'array', items: { $ref: 'ContentsObject' } },
    description: { type: 'string' },
    aliases: { type: 'array', items: { type: 'string' } },
  },
};
export const error = {
  type: 'object',
  properties: { msg: { type: 'string' }, status_code: { type: 'integer' } },
};
const summary = {
  type: 'object',
  properties: { requested: { type: 'integer' }, resolved: { type: 'integer' }, unresolved: { type: 'integer' } },
};
const unresolved = {
  type: 'array',
  items: { type: 'object', properties: { error_code: { type: 'integer' }, object_ids: { type: 'array', items: { type: 'string' } } } },
};
export const bulkObjects = {
  type: 'object',
  properties: { summary, unresolved_drs_objects: unresolved, resolved_drs_object: { type: 'array', items: { $ref: 'DrsObject' } } },
};
export const bulkAccess = {
  type: 'object',
  properties: {
    summary, unresolved_drs_objects: unresolved,
    resolved_drs_object_access_urls: {
      type: 'array',
      items: { type: 'object', required: ['url'], properties: { drs_object_id: { type: 'string' }, drs_access_id: { type: 'string' }, url: { type: 'string' }, headers: { type: 'array', items: { type: 'string' } } } },
    },
  },
};
export const bulkAuthorizations = {
  type: 'object',
  properties: { summary, unresolved_drs_objects: unresolved, resolved_drs_object: { type: 'array', items: authorizations } },
};
export { accessUrl, authorizations, contentsObject };
export const serviceInfo = {
  allOf: [
    {
      type: 'object', required: ['id', 'name', 'type', 'organization', 'version'],
      properties: {
        id: { type: 'string' }, name: { type: 'string' },
        type: { type: 'object', required: ['group', 'artifact', 'version'], properties: { group: { type: 'string' }, artifact: { type: 'string' }, version: { type: 'string' } } },
        description: { type: 'string' },
        organization: { type: 'object', required: ['name', 'url'], properties: { name: { type: 'string' }, url: { type: 'string', format: 'uri' } } },
        contactUrl: { type: 'string', format: 'uri' }, documentationUrl: { type: 'string', format: 'uri' },
        createdAt: { type: 'string', format: 'date-time' }, updatedAt: { type: 'string', format: 'date-time' },
        environment: { type: 'string' }, version: { type: 'string' },
      },
    },
    {
      type: 'object', required: ['type', 'maxBulkRequestLength'],
      properties: {
        maxBulkRequestLength: { type: 'integer', minimum: 1 },
        type: { type: 'object', required: ['artifact'], properties: { artifact: { type: 'string', enum: ['drs'] } } },
      },
    },
  ],
};
