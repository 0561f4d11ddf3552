// The cryptography behind the PIN, all WebCrypto: PBKDF2-SHA-256 turns the PIN and a random
// salt into a 256-bit AES-GCM key (not extractable: the page can use it, never read it), and
// every value is sealed with a fresh random 96-bit IV and its storage name as associated data.
// GCM's tag makes a wrong key, a changed byte or a value moved under another name fail to open
// instead of giving garbage.
//
// PBKDF2 is what every browser has; 600,000 iterations is OWASP's figure for PBKDF2-SHA-256
// (2023), about a second on a cheap phone. It slows guessing, it does not make a short PIN
// strong: docs/privacy.md says what this protects against and what it does not.

export const PBKDF2_ITERATIONS = 600_000;
const SALT_BYTES = 16;
const IV_BYTES = 12;
const SEALED = 'survey-sealed/1';

export function newSalt() {
  return crypto.getRandomValues(new Uint8Array(SALT_BYTES));
}

export async function deriveKey(pin, salt, iterations) {
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(pin), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

export function isSealed(value) {
  return value?.format === SEALED;
}

// Bytes stay bytes; anything else goes as JSON text.
export async function seal(key, value, name) {
  const bytes = value instanceof Uint8Array;
  const plain = bytes ? value : new TextEncoder().encode(JSON.stringify(value));
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const data = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: label(name) }, key, plain));
  return { format: SEALED, bytes, iv, data };
}

export async function open(key, sealed, name) {
  const plain = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: sealed.iv, additionalData: label(name) }, key, sealed.data));
  return sealed.bytes ? plain : JSON.parse(new TextDecoder().decode(plain));
}

function label(name) {
  return new TextEncoder().encode(name);
}
