// A small JSON Schema (2020-12) validator for the subset models/manifest.schema.json uses:
// type, const, enum, properties, required, additionalProperties (boolean or schema), items, min/maxItems,
// minimum, exclusiveMinimum, maximum, minLength, pattern, oneOf and local $ref.
// Hand-written because ajv is not a dependency of iqa-node (~100 lines vs a 1 MB dependency);
// swap in ajv if the schema outgrows this subset.
export type Schema = {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  minLength?: number;
  pattern?: string;
  oneOf?: Schema[];
  $ref?: string;
  $defs?: Record<string, Schema>;
  [k: string]: unknown;
};

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(v: unknown, t: string): boolean {
  const actual = typeOf(v);
  return actual === t || (t === 'number' && actual === 'integer');
}

/** Returns the list of violations ("path: message"), empty when `value` conforms. */
export function validateSchema(value: unknown, schema: Schema, root: Schema = schema, path = 'manifest'): string[] {
  if (schema.$ref) {
    const m = /^#\/\$defs\/(.+)$/.exec(schema.$ref);
    const target = m ? root.$defs?.[m[1]] : undefined;
    if (!target) return [`${path}: schema error, unresolved $ref ${schema.$ref}`];
    return validateSchema(value, target, root, path);
  }
  const errs: string[] = [];
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => typeMatches(value, t))) return [`${path}: must be ${types.join(' or ')}, got ${typeOf(value)}`];
  }
  if ('const' in schema && value !== schema.const) errs.push(`${path}: must be ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.some((e) => e === value)) errs.push(`${path}: must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(value)}`);
  if (schema.oneOf) {
    const passing = schema.oneOf.filter((s) => validateSchema(value, s, root, path).length === 0).length;
    if (passing !== 1) errs.push(`${path}: ${JSON.stringify(value)} does not match exactly one allowed form`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errs.push(`${path}: must be >= ${schema.minimum}`);
    if (schema.exclusiveMinimum !== undefined && !(value > schema.exclusiveMinimum)) errs.push(`${path}: must be > ${schema.exclusiveMinimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errs.push(`${path}: must be <= ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) errs.push(`${path}: must not be empty`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) errs.push(`${path}: must match ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) errs.push(`${path}: needs at least ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errs.push(`${path}: allows at most ${schema.maxItems} items`);
    if (schema.items) value.forEach((v, i) => errs.push(...validateSchema(v, schema.items as Schema, root, `${path}[${i}]`)));
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    for (const k of schema.required ?? []) if (!(k in obj)) errs.push(`${path}: missing required '${k}'`);
    for (const [k, v] of Object.entries(obj)) {
      const sub = schema.properties?.[k];
      if (sub) errs.push(...validateSchema(v, sub, root, `${path}.${k}`));
      else if (schema.additionalProperties === false) errs.push(`${path}: unknown property '${k}'`);
      else if (typeof schema.additionalProperties === 'object') errs.push(...validateSchema(v, schema.additionalProperties, root, `${path}.${k}`));
    }
  }
  return errs;
}
