import { isEnumType, isInputObjectType, isInterfaceType, isObjectType, isSpecifiedScalarType, type GraphQLSchema } from 'graphql';

/**
 * Every public type, field, argument, input field and enum value without a description, as
 * `Type`, `Type.field`, `Type.field(arg)` or `Enum.VALUE`. Introspection and federation
 * (`_`-prefixed) names are not ours to describe, nor the types the Federation 2 `@link` brings
 * in (`federation__…`, `link__…`).
 */
export function undescribed(schema: GraphQLSchema): string[] {
  const out: string[] = [];
  for (const t of Object.values(schema.getTypeMap())) {
    if (t.name.startsWith('_') || /^(federation|link)__/.test(t.name) || isSpecifiedScalarType(t)) continue;
    if (!t.description) out.push(t.name);
    if (isObjectType(t) || isInterfaceType(t) || isInputObjectType(t)) {
      for (const f of Object.values(t.getFields())) {
        if (f.name.startsWith('_')) continue;
        if (!f.description) out.push(`${t.name}.${f.name}`);
        for (const a of 'args' in f ? f.args : []) if (!a.description) out.push(`${t.name}.${f.name}(${a.name})`);
      }
    }
    if (isEnumType(t)) for (const v of t.getValues()) if (!v.description) out.push(`${t.name}.${v.name}`);
  }
  return out.sort();
}
