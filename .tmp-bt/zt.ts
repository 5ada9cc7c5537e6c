import { z } from 'zod';
const Val: z.ZodType<any> = z.lazy(() => z.union([z.object({ const: z.number() }).strict(), z.object({ ref: Val, bars: z.number().int() }).strict()]));
const Cond: any = z.union([
  z.object({ cmp: z.enum(['gt','lt']), left: Val, right: Val }).strict(),
  z.object({ all: z.array(z.lazy(() => Cond)) }).strict(),
]).meta({ id: 'StrategyCondition' });
const Def = z.object({ entry: Cond, exit: Cond });
console.log(JSON.stringify(z.toJSONSchema(Def, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' }), null, 1).slice(0, 3000));
