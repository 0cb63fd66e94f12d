/**
 * TypedInput properties as core nodes save them (a value and its type: `hostnames` +
 * `hostnamesType`), resolved through the runtime's RED.util.evaluateNodeProperty: `str` and `env`
 * are fixed at deploy, `msg`, `flow` and `global` are read for each input msg.
 */
import { z } from 'zod';
import { phrase } from '../core/said';
import { blank } from './config-fields';
import type { Msg, Red, RedNode } from './red-types';

export const VALUE_TYPES = ['str', 'msg', 'flow', 'global', 'env'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

/** The type field of a TypedInput property; empty (a node saved before the field existed) means `def`. */
export const typeField = <T extends ValueType>(label: string, types: readonly [T, ...T[]], def: T) =>
  z.preprocess(
    (v) => (blank(v) ? def : v),
    z.enum(types, {
      error: phrase('node.type_one_of', '__label__: the type must be one of __types__', {
        label,
        types: types.join(', '),
      }),
    }),
  );

/** Whether the value is known at deploy (the text itself, or an environment variable). */
export const fixedAtDeploy = (type: ValueType): type is 'str' | 'env' => type === 'str' || type === 'env';

/** The value at deploy of a `str` or `env` property. */
export function valueAtDeploy(RED: Red, node: RedNode, value: string, type: 'str' | 'env'): unknown {
  return type === 'str' ? value : RED.util.evaluateNodeProperty(value, 'env', node, undefined);
}

/** The value of a property for one msg (a context store may answer asynchronously). */
export function valueFor(RED: Red, node: RedNode, value: string, type: ValueType, msg: Msg): Promise<unknown> {
  return new Promise((resolve, reject) =>
    RED.util.evaluateNodeProperty(value, type, node, msg, (err, v) => (err ? reject(err) : resolve(v))),
  );
}

/** How a property is named in messages: `msg.topic`, `flow.names`, `env.DDNS_NAMES`. */
export const describeProperty = (value: string, type: ValueType): string =>
  type === 'str' ? JSON.stringify(value) : `${type}.${value}`;
