import { InputError } from './wire-reader.js';

/**
 * Thrown by an item decoder for an item that is well-framed but invalid: only that item is
 * rejected. An InputError, so without a stack trace (one is thrown per rejected item).
 */
export class ItemRejected extends InputError {}
