/**
 * The syntax tree of an autoscale formula. Every node carries the 1-based position of its first
 * character; binary nodes also carry the operator's position (type errors are reported there).
 */
import type { Pos } from './errors';

export type BinaryOp = '+' | '-' | '*' | '/' | '<' | '<=' | '>' | '>=' | '==' | '!=' | '&&' | '||';
export type UnaryOp = '-' | '!';

export type Expr =
  | { readonly kind: 'number'; readonly value: number; readonly pos: Pos }
  | { readonly kind: 'string'; readonly value: string; readonly pos: Pos }
  /** Any name: `$TargetDedicatedNodes`, `$myVar`, `myVar`, `TimeInterval_Minute`, `taskcompletion`. */
  | { readonly kind: 'ident'; readonly name: string; readonly pos: Pos }
  /** `[a, b, c]` (the seed's prose notation `v = [1,2,3]`); items are flattened like a doubleVecList. */
  | { readonly kind: 'vector'; readonly items: readonly Expr[]; readonly pos: Pos }
  | { readonly kind: 'unary'; readonly op: UnaryOp; readonly operand: Expr; readonly pos: Pos }
  | {
      readonly kind: 'binary';
      readonly op: BinaryOp;
      readonly left: Expr;
      readonly right: Expr;
      readonly pos: Pos;
      readonly opPos: Pos;
    }
  | { readonly kind: 'ternary'; readonly cond: Expr; readonly then: Expr; readonly otherwise: Expr; readonly pos: Pos }
  /** `avg(…)`, `time()` */
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expr[]; readonly pos: Pos }
  /** `$ActiveTasks.GetSample(…)`; `namePos` points at the method name. */
  | {
      readonly kind: 'method';
      readonly target: Expr;
      readonly name: string;
      readonly args: readonly Expr[];
      readonly pos: Pos;
      readonly namePos: Pos;
    }
  /** `$curTime.hour` */
  | { readonly kind: 'member'; readonly target: Expr; readonly name: string; readonly pos: Pos; readonly namePos: Pos }
  ;

export type Statement =
  | { readonly kind: 'assign'; readonly name: string; readonly value: Expr; readonly pos: Pos }
  | { readonly kind: 'expr'; readonly expr: Expr; readonly pos: Pos };

/** A parsed formula. Immutable; evaluate it any number of times. */
export interface Formula {
  readonly statements: readonly Statement[];
}
