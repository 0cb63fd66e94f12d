/**
 * zod pieces for node configurations as the editor saves them: numbers and booleans may arrive as
 * strings, empty fields as '' (meaning "the default"). Shared by every node of the package.
 */
import { z } from 'zod';
import { phrase } from '../core/said';

export const blank = (v: unknown): boolean => v === '' || v === undefined || v === null;

const toNumber = (v: unknown) => (blank(v) ? undefined : typeof v === 'string' ? Number(v.trim()) : v);

function numberIn(label: string, min: number, max: number, integer: boolean) {
  const n = z.number({ error: phrase('node.number', '__label__ must be a number', { label }) });
  return (integer ? n.int(phrase('node.whole_number', '__label__ must be a whole number', { label })) : n)
    .min(min, phrase('node.at_least', '__label__ must be at least __min__', { label, min }))
    .max(max, phrase('node.at_most', '__label__ must be at most __max__', { label, max }));
}

/** A number within [min, max]; empty means `def`. */
export const numberField = (label: string, min: number, max: number, def: number, integer = false) =>
  z.preprocess(toNumber, numberIn(label, min, max, integer).default(def));

/** A number within [min, max], or undefined when empty. */
export const optionalNumberField = (label: string, min: number, max: number, integer = false) =>
  z.preprocess(toNumber, numberIn(label, min, max, integer).optional());

/** A checkbox; empty means `def`. */
export const boolField = (def: boolean) =>
  z.preprocess(
    (v) => (blank(v) ? undefined : v === 'true' ? true : v === 'false' ? false : v),
    z.boolean().default(def),
  );

/** Free text, trimmed; empty stays ''. */
export const textField = () => z.preprocess((v) => (blank(v) ? '' : v), z.string().trim());

/** A list typed as text: one item per line, or separated by commas, semicolons or spaces. */
export const listField = () =>
  z
    .preprocess(
      (v) => (Array.isArray(v) ? v.map(String) : blank(v) ? [] : String(v).split(/[\s,;]+/)),
      z.array(z.string()),
    )
    .transform((a) => a.map((s) => s.trim()).filter(Boolean));

/** The name of a context store from settings.js ('' = the default store). */
export const contextStoreField = () =>
  textField().refine(
    (s) => /^[A-Za-z0-9_]*$/.test(s),
    phrase('node.context_store_names_contain', 'context store names contain only letters, digits and _'),
  );
