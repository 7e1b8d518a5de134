/**
 * tenantlite/parser: a grammar for SQLite's SQL dialect and a statement classifier, with no dependencies.
 * It decides, before anything runs, what each statement is and what it may write.
 *
 * @example
 * const { statements, errors } = parse("INSERT INTO userdb.prefs VALUES (1); SELECT 1");
 * statements[0].summary.schemas; // ["userdb"]
 */
export {
  classify,
  isComplete,
  parse,
  type SqlToken,
  type SqlTokenKind,
  splitStatements,
  sqlTokens,
} from "./parse.js";
export type {
  ColumnDefinition,
  ObjectRef,
  ParsedStatement,
  ParseError,
  ParseOptions,
  ParseResult,
  ResultColumnShape,
  ResultShape,
  SourceShape,
  StatementKind,
  StatementSummary,
  TransactionEffect,
} from "./types.js";
