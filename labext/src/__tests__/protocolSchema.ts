/**
 * The protocol's JSON Schema (src/protocol.schema.json) as a jest helper: the same file pytest
 * validates the kernel's messages against (tests/comm_client.py), so both sides keep one contract.
 */
import Ajv from 'ajv';
import { PROTOCOL_SCHEMA } from '../protocol';

const ajv = new Ajv({ allErrors: true });
ajv.addSchema(PROTOCOL_SCHEMA, 'protocol');

export type Direction = 'sidebarMessage' | 'kernelMessage';

/** What is wrong with a message by the schema ([] when it keeps the contract). */
export function schemaErrors(message: unknown, direction: Direction): string[] {
  const validate = ajv.getSchema(`protocol#/definitions/${direction}`);
  if (!validate) {
    throw new Error(`no ${direction} in protocol.schema.json`);
  }
  return validate(message) ? [] : (validate.errors ?? []).map(e => `${e.instancePath || '/'} ${e.message}`);
}

/** Throw unless the message keeps the contract (used by the fake kernel on everything it receives). */
export function expectValid(message: unknown, direction: Direction): void {
  const errors = schemaErrors(message, direction);
  if (errors.length) {
    throw new Error(`${direction} breaks protocol.schema.json: ${errors.join('; ')}\n${JSON.stringify(message)}`);
  }
}
