// Shorthands for field declarations, so each resource module reads as a table of fields.
import type { FieldDecl } from '../resource.js';

export const int = (column: string, description: string, nullable = false): FieldDecl => ({
  type: 'integer',
  nullable,
  description,
  source: { column },
});

export const str = (column: string, description: string, nullable = false): FieldDecl => ({
  type: 'string',
  nullable,
  description,
  source: { column },
});

/** A 0/1 column read as a boolean. */
export const flag = (column: string, description: string): FieldDecl => ({
  type: 'boolean',
  description,
  source: { column },
});

/** true once the column is set (`complete` from `complete_at`). */
export const isSet = (column: string, description: string): FieldDecl => ({
  type: 'boolean',
  description,
  source: { notNull: column },
});

/** A column holding JSON text (tags, URLs, worker info). */
export const json = (
  column: string,
  type: 'object' | 'array',
  description: string,
  schema: Readonly<Record<string, unknown>>,
): FieldDecl => ({ type, description, source: { column }, schema });

export const computed = (
  type: 'object' | 'array' | 'integer',
  description: string,
  schema?: Readonly<Record<string, unknown>>,
): FieldDecl => ({ type, description, source: { computed: true }, ...(schema ? { schema } : {}) });

/** A computed field given only when `field=` names it (FieldDecl.onlyWhenAsked). */
export const onlyWhenAsked = (field: FieldDecl): FieldDecl => ({ ...field, onlyWhenAsked: true });
