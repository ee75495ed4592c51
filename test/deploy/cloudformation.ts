/**
 * What CloudFormation would deploy from a template for given parameter values: its Conditions evaluated,
 * the resources and outputs whose condition is false left out, every Fn::If resolved and
 * AWS::NoValue removed. Only the intrinsic functions the project's templates use in conditions are
 * supported (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition, Ref, Fn::Select, Fn::Split); anything
 * else throws, so a test never silently evaluates a template it does not understand.
 */

export type Template = {
  Conditions?: Record<string, unknown>;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Condition?: string; Value: unknown }>;
  [section: string]: unknown;
};
export type CfnResource = { Type: string; Condition?: string; Properties: Record<string, unknown> };

/** Parameter and pseudo-parameter values (AWS::AccountId, AWS::Region) the conditions may read. */
export type ParameterValues = Readonly<Record<string, string | readonly string[]>>;

const NO_VALUE = Symbol('AWS::NoValue');

export function evaluateConditions(
  template: Template,
  parameters: ParameterValues = {},
): Record<string, boolean> {
  const definitions = template.Conditions ?? {};
  const results: Record<string, boolean> = {};
  const condition = (name: string): boolean => {
    if (!(name in definitions)) throw new Error(`unknown condition ${name}`);
    return (results[name] ??= truth(definitions[name]));
  };
  const value = (expr: unknown): unknown => {
    if (typeof expr === 'string') return expr;
    const [fn, args] = only(expr);
    if (fn === 'Ref') {
      const v = parameters[args as string];
      if (v === undefined) throw new Error(`no value for parameter ${String(args)}`);
      return v;
    }
    if (fn === 'Fn::Split') {
      const [sep, source] = args as [string, unknown];
      return String(value(source)).split(sep);
    }
    if (fn === 'Fn::Select') {
      const [index, list] = args as [number | string, unknown];
      return (value(list) as string[])[Number(index)];
    }
    throw new Error(`unsupported function ${fn} in a condition`);
  };
  const truth = (expr: unknown): boolean => {
    const [fn, args] = only(expr);
    const list = args as unknown[];
    switch (fn) {
      case 'Fn::Equals':
        return JSON.stringify(value(list[0])) === JSON.stringify(value(list[1]));
      case 'Fn::Not':
        return !truth(list[0]);
      case 'Fn::And':
        return list.every(truth);
      case 'Fn::Or':
        return list.some(truth);
      case 'Condition':
        return condition(args as string);
      default:
        throw new Error(`unsupported condition function ${fn}`);
    }
  };
  for (const name of Object.keys(definitions)) condition(name);
  return results;
}

function only(expr: unknown): [string, unknown] {
  if (!expr || typeof expr !== 'object' || Array.isArray(expr) || Object.keys(expr).length !== 1)
    throw new Error(`not an intrinsic function: ${JSON.stringify(expr)}`);
  return Object.entries(expr)[0] as [string, unknown];
}

/** `value` with every Fn::If resolved by `conditions` and every AWS::NoValue left out. */
export function resolveIfs(value: unknown, conditions: Readonly<Record<string, boolean>>): unknown {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk).filter((x) => x !== NO_VALUE);
    if (!v || typeof v !== 'object') return v;
    const entries = Object.entries(v);
    if (entries.length === 1 && entries[0]![0] === 'Fn::If') {
      const [name, yes, no] = entries[0]![1] as [string, unknown, unknown];
      if (!(name in conditions)) throw new Error(`unknown condition ${name}`);
      return walk(conditions[name] ? yes : no);
    }
    if (entries.length === 1 && entries[0]![0] === 'Ref' && entries[0]![1] === 'AWS::NoValue')
      return NO_VALUE;
    return Object.fromEntries(
      entries.map(([k, x]) => [k, walk(x)] as const).filter(([, x]) => x !== NO_VALUE),
    );
  };
  return walk(value);
}

/** The template as deployed with `parameters`: only what exists, conditions resolved. */
export function effectiveTemplate(template: Template, parameters: ParameterValues = {}): Template {
  const conditions = evaluateConditions(template, parameters);
  const kept = <T extends { Condition?: string }>(section: Record<string, T> = {}) =>
    Object.fromEntries(
      Object.entries(section)
        .filter(([, x]) => x.Condition === undefined || conditions[x.Condition])
        .map(([k, x]) => {
          const { Condition: _condition, ...rest } = x;
          return [k, resolveIfs(rest, conditions)];
        }),
    );
  return {
    ...template,
    Resources: kept(template.Resources) as Template['Resources'],
    Outputs: kept(template.Outputs) as Template['Outputs'],
  };
}

/** The logical ids a value refers to (Ref, Fn::GetAtt, and ${Name} / ${Name.Attr} in Fn::Sub). */
export function referencesIn(
  value: unknown,
  guardedBy?: (condition: string, ref: string) => boolean,
): Set<string> {
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      // The true branch of `Fn::If [Cond, a, b]` exists only when Cond holds: a reference there to a
      // resource of that same condition is safe (the caller decides with guardedBy).
      if (k === 'Fn::If' && Array.isArray(x) && typeof x[0] === 'string' && guardedBy) {
        const condition = x[0];
        for (const ref of referencesIn(x[1], guardedBy)) if (!guardedBy(condition, ref)) found.add(ref);
        walk(x[2]);
        continue;
      }
      if (k === 'Ref' && typeof x === 'string') found.add(x);
      else if (k === 'Fn::GetAtt') found.add(Array.isArray(x) ? String(x[0]) : String(x).split('.')[0]!);
      else if (k === 'Fn::Sub') {
        const text = Array.isArray(x) ? String(x[0]) : String(x);
        for (const m of text.matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}/g)) found.add(m[1]!);
        if (Array.isArray(x)) walk(x[1]);
      } else walk(x);
    }
  };
  walk(value);
  return found;
}
