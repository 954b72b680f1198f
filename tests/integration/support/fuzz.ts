/**
 * Request generators for the API fuzz suite (api-fuzz.test.ts): fast-check arbitraries built from an
 * operation of a service's own /openapi.json. Each generated request is one of: a body that follows
 * the schema, the same body with a few mutations (a field dropped, an unknown field added, a value
 * swapped for a wrong type, a boundary number, a huge or unicode/NUL string), a wrong root value,
 * malformed JSON, a wrong content type, no body or a body over the size limit. Path parameters are
 * ids that exist, ids that do not, and strings that are no ids at all; the caller's identity is
 * picked from a list the test supplies (roles, expired and tampered tokens, ...).
 */
import fc from 'fast-check';

type JsonSchema = Record<string, any>;

export interface Operation {
  method: string;
  /** The OpenAPI path, `{name}` placeholders included. */
  path: string;
  parameters: Array<{ name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema?: JsonSchema }>;
  /** The first media type of the request body and its schema (`{}` when the route validates it itself). */
  body?: { mediaType: string; schema: JsonSchema };
}

export function operationsOf(doc: { paths: Record<string, Record<string, any>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const content = op.requestBody?.content as Record<string, { schema?: JsonSchema }> | undefined;
      const [mediaType, media] = content ? Object.entries(content)[0]! : [];
      ops.push({
        method: method.toUpperCase(),
        path,
        parameters: op.parameters ?? [],
        ...(mediaType ? { body: { mediaType, schema: media?.schema ?? {} } } : {}),
      });
    }
  }
  return ops;
}

/** Every property name the document mentions: the field names of schema-less bodies and forms are drawn from it. */
export function vocabularyOf(doc: object): string[] {
  const names = new Set<string>();
  const walk = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    const props = (node as JsonSchema).properties;
    if (props && typeof props === 'object') for (const name of Object.keys(props)) names.add(name);
    for (const value of Object.values(node)) walk(value);
  };
  walk(doc);
  return [...names].sort();
}

// ---------------------------------------------------------------------------------------------
// Hostile values

const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\ufeff',
  '\u202e\u0041',
  '😀🦌',
  'İstanbul ǅ ß',
  'Ａｄｍｉｎ',
  '\n\r\t',
  '\\',
  '"',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '%00',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  '__proto__',
  'constructor',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
];

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  // Any UTF-16 code unit sequence: control characters, NUL and lone surrogates included.
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  // Huge: past every maxLength the schemas set, below the 1 MiB body limit.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 300, max: 200_000 }), fc.constantFrom('x', 'é', '😀', '\u0000', 'ab '))
      .map(([n, unit]) => unit.repeat(Math.ceil(n / unit.length))),
  },
);

export const boundaryNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    -1,
    1,
    0.5,
    -0.5,
    2 ** 31 - 1,
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 32,
    2 ** 53 - 1,
    2 ** 53 + 2,
    -(2 ** 53) - 2,
    1e21,
    1e300,
    -1e300,
    Number.MIN_VALUE,
    Number.MAX_VALUE,
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** Nested `depth` levels deep: arrays, or objects when `objects`. */
const deep = (depth: number, objects: boolean): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = objects ? { a: value } : [value];
  return value;
};

export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: nastyString },
  { weight: 3, arbitrary: boundaryNumber },
  { weight: 1, arbitrary: fc.constantFrom(true, false, null, [], {}, [null], { '': null }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 50, max: 3000 }), fc.boolean()).map(([d, o]) => deep(d, o)) },
  { weight: 1, arbitrary: fc.array(nastyString, { maxLength: 200 }) },
);

// ---------------------------------------------------------------------------------------------
// Values from a schema

/** Values the test knows exist (ids, model names, ...), by field or parameter name. */
export type Fixtures = Record<string, readonly unknown[]>;

const clampLength = (min: number | undefined, max: number | undefined) => ({
  minLength: min ?? 0,
  maxLength: Math.min(max ?? 24, Math.max(min ?? 0, 24)),
});

/** An arbitrary of values that (mostly) satisfy `schema`; fields named in `fixtures` often take a known value. */
export function valueFor(
  schema: JsonSchema | undefined,
  fixtures: Fixtures,
  vocabulary: string[],
  depth = 0,
  name?: string,
): fc.Arbitrary<unknown> {
  const known = name && fixtures[name]?.length ? fc.constantFrom(...fixtures[name]) : undefined;
  const plain = plainValueFor(schema ?? {}, fixtures, vocabulary, depth);
  return known ? fc.oneof({ weight: 2, arbitrary: known }, { weight: 1, arbitrary: plain }) : plain;
}

function plainValueFor(schema: JsonSchema, fixtures: Fixtures, vocabulary: string[], depth: number): fc.Arbitrary<unknown> {
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum) && schema.enum.length) return fc.constantFrom(...schema.enum);
  const alternatives = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (alternatives?.length) return fc.oneof(...alternatives.map((s) => valueFor(s, fixtures, vocabulary, depth)));
  if (Array.isArray(schema.allOf) && schema.allOf.length) return valueFor(schema.allOf[0], fixtures, vocabulary, depth);
  const type = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (type.length > 1) return fc.oneof(...type.map((t: string) => valueFor({ ...schema, type: t }, fixtures, vocabulary, depth)));
  switch (type[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer': {
      const min = Math.max(schema.minimum ?? (schema.exclusiveMinimum ?? -1_000_001) + 1, -1_000_000);
      const max = Math.min(schema.maximum ?? (schema.exclusiveMaximum ?? 1_000_001) - 1, 1_000_000);
      return min <= max ? fc.integer({ min, max }) : fc.constant(min);
    }
    case 'number': {
      const min = schema.minimum ?? schema.exclusiveMinimum ?? -1e6;
      const max = schema.maximum ?? schema.exclusiveMaximum ?? 1e6;
      return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
    }
    case 'string':
      return stringFor(schema);
    case 'array': {
      const minLength = schema.minItems ?? 0;
      const maxLength = Math.min(schema.maxItems ?? 4, Math.max(minLength, 4));
      return fc.array(valueFor(schema.items, fixtures, vocabulary, depth + 1), { minLength, maxLength });
    }
    case 'object':
      return objectFor(schema, fixtures, vocabulary, depth);
    default:
      // No schema (the route validates the body itself): objects with the document's field names.
      return depth > 2
        ? fc.jsonValue({ maxDepth: 1 })
        : fc.oneof(
            { weight: 3, arbitrary: looseObject(fixtures, vocabulary, depth) },
            { weight: 1, arbitrary: fc.array(looseObject(fixtures, vocabulary, depth), { minLength: 1, maxLength: 3 }) },
            { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
          );
  }
}

function stringFor(schema: JsonSchema): fc.Arbitrary<string> {
  switch (schema.format) {
    case 'uuid':
      return fc.uuid();
    case 'email':
      return fc.emailAddress();
    case 'date-time':
      return fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
    case 'date':
      return fc
        .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10));
    case 'uri':
    case 'url':
      return fc.webUrl();
  }
  if (typeof schema.pattern === 'string') {
    try {
      const { minLength, maxLength } = clampLength(schema.minLength, schema.maxLength);
      return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length >= minLength && s.length <= Math.max(maxLength, 64));
    } catch {
      // A pattern JavaScript cannot compile: fall through to plain strings.
    }
  }
  return fc.string(clampLength(schema.minLength, schema.maxLength));
}

function objectFor(schema: JsonSchema, fixtures: Fixtures, vocabulary: string[], depth: number): fc.Arbitrary<unknown> {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set<string>(schema.required ?? []);
  const record = Object.fromEntries(
    Object.entries(properties).map(([key, prop]) => [key, valueFor(prop, fixtures, vocabulary, depth + 1, key)]),
  );
  if (Object.keys(record).length === 0) {
    // A free-form map (metadata, inputs): keys from the vocabulary, any values.
    return depth > 2 ? fc.constant({}) : looseObject(fixtures, vocabulary, depth);
  }
  return fc.record(record, { requiredKeys: [...required].filter((k) => k in record) });
}

function looseObject(fixtures: Fixtures, vocabulary: string[], depth: number): fc.Arbitrary<Record<string, unknown>> {
  const key = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...vocabulary) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) });
  return fc
    .array(fc.tuple(key, fc.nat()), { maxLength: 6 })
    .chain((entries) =>
      fc.tuple(
        ...entries.map(([k]) =>
          fc.tuple(
            fc.constant(k),
            fc.oneof(
              { weight: 3, arbitrary: valueFor(undefined, fixtures, vocabulary, depth + 3, k) },
              { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
              { weight: 1, arbitrary: fc.integer({ min: -5, max: 200 }) },
            ),
          ),
        ),
      ),
    )
    .map((entries) => Object.fromEntries(entries));
}

// ---------------------------------------------------------------------------------------------
// Mutations of a valid body

type Mutation =
  { kind: 'drop'; at: number } | { kind: 'add'; at: number; key: string; value: unknown } | { kind: 'replace'; at: number; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('add' as const),
    at: fc.nat(),
    key: fc.oneof(fc.constantFrom('extra', '__proto__', 'constructor', 'role', 'roles', 'is_admin', ''), nastyString),
    value: wrongValue,
  }),
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: wrongValue }) },
);

/** Mutations address the first levels only: a value swapped in may itself be nested thousands deep. */
const MUTATION_DEPTH = 6;

/** Every [container, key] of a JSON value down to MUTATION_DEPTH, depth first, so a mutation can address any field. */
function slots(value: unknown, out: Array<[Record<string, unknown> | unknown[], string | number]> = [], depth = 0) {
  if (depth >= MUTATION_DEPTH) return out;
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push([value, i]);
      slots(v, out, depth + 1);
    });
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push([value as Record<string, unknown>, k]);
      slots(v, out, depth + 1);
    }
  }
  return out;
}

function containers(value: unknown, out: Array<Record<string, unknown>> = [], depth = 0) {
  if (depth >= MUTATION_DEPTH) return out;
  if (Array.isArray(value)) value.forEach((v) => containers(v, out, depth + 1));
  else if (value && typeof value === 'object') {
    out.push(value as Record<string, unknown>);
    for (const v of Object.values(value)) containers(v, out, depth + 1);
  }
  return out;
}

function applyMutations(value: unknown, mutations: Mutation[]): unknown {
  let root = structuredClone(value);
  for (const m of mutations) {
    if (m.kind === 'add') {
      const targets = containers(root);
      // defineProperty: a plain assignment to `__proto__` would change the prototype, not add a field.
      if (targets.length)
        Object.defineProperty(targets[m.at % targets.length]!, m.key, {
          value: m.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      continue;
    }
    const all = slots(root);
    if (!all.length) {
      if (m.kind === 'replace') root = m.value;
      continue;
    }
    const [holder, key] = all[m.at % all.length]!;
    if (m.kind === 'drop') {
      if (Array.isArray(holder)) holder.splice(key as number, 1);
      else delete holder[key as string];
    } else (holder as Record<string | number, unknown>)[key] = m.value;
  }
  return root;
}

// ---------------------------------------------------------------------------------------------
// Bodies

export interface RawBody {
  /** What was sent, for the failure message. */
  label: string;
  contentType?: string;
  text?: string;
  form?: Array<{ name: string; value: string } | { name: string; file: { bytes: Uint8Array; type: string; filename: string } }>;
}

const MALFORMED_JSON = [
  '{',
  '{"a":',
  '[1,2',
  '{"a":1,}',
  "{'a':1}",
  'NaN',
  'undefined',
  '\ufeff{}',
  '{"a":1}{"b":2}',
  '\u0000',
  '{"a":"\\ud800"}',
  '{"a":"\\u0000"}',
  '1e400',
  '-',
  '"\\x"',
  '{"__proto__":{"roles":["admin"]}}',
  '{"constructor":{"prototype":{"admin":true}}}',
  '9'.repeat(400),
];

const WRONG_CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'multipart/form-data; boundary=fuzz',
  'application/xml',
  'application/json; charset=utf-16',
  'application/merge-patch+json',
  ';',
  'application/json, text/plain',
  '*/*',
  'application/jsonx',
  'APPLICATION/JSON',
  'image/png',
];

const jsonText = (value: unknown) => JSON.stringify(value) ?? 'null';

export function jsonBody(schema: JsonSchema, fixtures: Fixtures, vocabulary: string[], maxBodyBytes: number): fc.Arbitrary<RawBody> {
  const valid = valueFor(schema, fixtures, vocabulary);
  return fc.oneof(
    { weight: 4, arbitrary: valid.map((v) => ({ label: 'schema', contentType: 'application/json', text: jsonText(v) })) },
    {
      weight: 8,
      arbitrary: fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([v, ms]) => ({
        label: `mutated ${ms.map((m) => m.kind).join('+')}`,
        contentType: 'application/json',
        text: jsonText(applyMutations(v, ms)),
      })),
    },
    { weight: 1, arbitrary: wrongValue.map((v) => ({ label: 'wrong root', contentType: 'application/json', text: jsonText(v) })) },
    {
      weight: 2,
      arbitrary: fc
        .oneof(fc.constantFrom(...MALFORMED_JSON), fc.string({ unit: 'binary', maxLength: 30 }))
        .map((text) => ({ label: 'malformed JSON', contentType: 'application/json', text })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(...WRONG_CONTENT_TYPES), valid)
        .map(([contentType, v]) => ({ label: `content-type ${contentType}`, contentType, text: jsonText(v) })),
    },
    { weight: 1, arbitrary: fc.constant({ label: 'no body' }) },
    { weight: 1, arbitrary: fc.constant({ label: 'empty JSON body', contentType: 'application/json', text: '' }) },
    // Over the JSON body limit: answered 413 before it is read.
    {
      weight: 1,
      arbitrary: fc.constant({ label: 'over the size limit', contentType: 'application/json', text: `"${'x'.repeat(maxBodyBytes + 10)}"` }),
    },
  );
}

const PDF = new TextEncoder().encode('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');

export function multipartBody(
  fieldNames: string[],
  fixtures: Fixtures,
  vocabulary: string[],
  fileSamples: Uint8Array[],
): fc.Arbitrary<RawBody> {
  const field = fc.tuple(
    fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...fieldNames) }, { weight: 1, arbitrary: nastyString.filter((s) => s.length < 100) }),
    fc.oneof(
      {
        weight: 2,
        arbitrary: fc.constantFrom('document', 'video', 'interactive', 'assessment', 'Fuzz title', '{}', '[]', '{"tags":["a"]}'),
      },
      { weight: 2, arbitrary: nastyString },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => jsonText(v)) },
      { weight: 1, arbitrary: fc.constantFrom(...Object.values(fixtures).flat().map(String)) },
    ),
  );
  const file = fc.record({
    bytes: fc.oneof(fc.constantFrom(PDF, new Uint8Array(0), ...fileSamples), fc.uint8Array({ maxLength: 2048 })),
    type: fc.constantFrom('application/pdf', 'application/json', 'application/octet-stream', 'video/mp4', 'text/html', 'x/y'),
    filename: fc.oneof(
      fc.constantFrom('a.pdf', 'model.json', '../../x.pdf', ''),
      nastyString.filter((s) => s.length < 300),
    ),
  });
  const form = fc.tuple(fc.array(field, { maxLength: 6 }), fc.option(file, { freq: 4 }), fc.nat()).map(([fields, f, position]) => {
    const parts: NonNullable<RawBody['form']> = fields.map(([name, value]) => ({ name, value }));
    if (f) parts.splice(position % (parts.length + 1), 0, { name: 'file', file: f });
    return { label: `multipart ${parts.length} parts${f ? ', file at ' + (position % parts.length) : ''}`, form: parts };
  });
  return fc.oneof(
    { weight: 6, arbitrary: form },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('multipart/form-data', 'multipart/form-data; boundary=b', 'multipart/form-data; boundary='), nastyString)
        .map(([contentType, text]) => ({
          label: `broken multipart (${contentType})`,
          contentType,
          text: `--b\r\nContent-Disposition: form-data; name="file"\r\n\r\n${text}`,
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(...WRONG_CONTENT_TYPES)
        .map((contentType) => ({ label: `content-type ${contentType}`, contentType, text: '{}' })),
    },
    { weight: 1, arbitrary: fc.constant({ label: 'no body' }) },
  );
}

// ---------------------------------------------------------------------------------------------
// Path and query parameters

/** Path segments that are no ids, already encoded for the URL (some on purpose invalid percent-encoding). */
const NOT_IDS_ENCODED = [
  '0',
  '-1',
  '1.5',
  'null',
  '%00',
  '%FF',
  '%E0%A4%A',
  '%ED%A0%80',
  '%',
  '..',
  '.',
  '%2e%2e',
  '%2F',
  '%20',
  'a'.repeat(5000),
  '9'.repeat(40),
  '1e309',
  'NaN',
  '%7B%7D',
];

/** An encoded path segment for a parameter: a known value, a well-formed id that does not exist, or no id at all. */
export function pathSegment(schema: JsonSchema | undefined, known: readonly unknown[] | undefined): fc.Arbitrary<string> {
  const encode = (s: string) => encodeURIComponent(s.toWellFormed());
  return fc.oneof(
    ...(known?.length ? [{ weight: 3, arbitrary: fc.constantFrom(...known).map((v) => encode(String(v))) }] : []),
    { weight: 2, arbitrary: (schema ? stringOrNumber(schema) : fc.uuid()).map((v) => encode(String(v))) },
    { weight: 2, arbitrary: fc.constantFrom(...NOT_IDS_ENCODED) },
    { weight: 2, arbitrary: nastyString.filter((s) => s.length > 0 && s.length < 3000).map(encode) },
    { weight: 1, arbitrary: fc.uuid().map((u) => u.toUpperCase()) },
  );
}

function stringOrNumber(schema: JsonSchema): fc.Arbitrary<unknown> {
  return plainValueFor(schema, {}, ['x'], 3);
}

/** The query string for an operation's query parameters: each absent, valid, hostile or repeated; plus unknown ones. */
export function queryString(params: Operation['parameters'], fixtures: Fixtures): fc.Arbitrary<string> {
  const query = params.filter((p) => p.in === 'query');
  const one = (p: Operation['parameters'][number]) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constant<string[]>([]) },
      { weight: 3, arbitrary: valueFor(p.schema, fixtures, [p.name], 0, p.name).map((v) => [String(v)]) },
      { weight: 2, arbitrary: nastyString.map((s) => [s.slice(0, 5000)]) },
      { weight: 1, arbitrary: boundaryNumber.map((n) => [String(n)]) },
      { weight: 1, arbitrary: fc.constant(['1', '2']) },
    );
  const extra = fc.array(
    fc.tuple(
      fc.constantFrom('extra', 'limit[]', '__proto__', 'q', 'a[b]'),
      nastyString.map((s) => s.slice(0, 200)),
    ),
    { maxLength: 2 },
  );
  return fc.tuple(fc.tuple(...query.map(one)), extra).map(([values, extras]) => {
    const search = new URLSearchParams();
    query.forEach((p, i) => values[i]!.forEach((v) => search.append(p.name, v.toWellFormed())));
    for (const [k, v] of extras) search.append(k, v.toWellFormed());
    const text = search.toString();
    return text ? `?${text}` : '';
  });
}

/** A header value fetch will send: printable ASCII, sometimes empty or long. */
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '').trim()),
  fc.constantFrom('', '*', 'W/"x"', '"0"', '1.0.3', '2.0.0', '0', '-1', '99999999999999999999', 'x'.repeat(4000)),
);
