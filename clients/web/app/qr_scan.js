// Reading the enrollment code from the QR image the coordinator's screen shows (the server
// draws it), so nobody types sixteen symbols on a phone. The browser's own BarcodeDetector
// where it reads QR codes (Chrome on Android); elsewhere jsQR (vendor/, Apache-2.0), a small
// decoder fetched only when a scan starts. Typing the code stays the way in when neither
// works, or the camera is refused.

import { h } from './dom.js';
import { say } from './words.js';

const SCAN_EVERY_MS = 200;
let decoding = null;

// The text of the QR code in `image` (an ImageData), or null.
export async function readQr(image) {
  decoding ??= qrDecoder();
  return (await decoding)(image);
}

async function qrDecoder() {
  if ('BarcodeDetector' in self) {
    const formats = await self.BarcodeDetector.getSupportedFormats().catch(() => []);
    if (formats.includes('qr_code')) {
      const detector = new self.BarcodeDetector({ formats: ['qr_code'] });
      return async (image) => (await detector.detect(image))[0]?.rawValue ?? null;
    }
  }
  await loadScript('/vendor/jsQR.js');
  return (image) => self.jsQR(image.data, image.width, image.height, { inversionAttempts: 'dontInvert' })?.data ?? null;
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = h('script', { src });
    script.addEventListener('load', resolve);
    script.addEventListener('error', () => reject(new Error(say('The code reader could not be loaded. Type the code instead.'))));
    document.head.append(script);
  });
}

// The enrollment code in a QR code's text, as the server prints it, or null for any other QR
// code (a web address on a poster, say).
export function enrollmentCode(text) {
  const symbols = String(text ?? '').toUpperCase().replace(/[^A-Z0-9]/g, '');
  if (!/^[A-HJ-NP-Z2-9]{16}$/.test(symbols)) return null;
  return symbols.match(/.{4}/g).join('-');
}

export function cameraAvailable() {
  return Boolean(navigator.mediaDevices?.getUserMedia);
}

// Shows the back camera in a dialog until it reads an enrollment code; resolves with the code,
// or null when the worker goes back to typing. Rejects when the camera cannot be opened.
export async function scanEnrollmentCode() {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  const video = h('video', { id: 'scan-video', class: 'scan-video', playsInline: true, muted: true });
  video.srcObject = stream;
  const hint = h('p', { role: 'status', id: 'scan-hint' }, say('Point the camera at the code on your coordinator\u2019s screen.'));
  const frame = document.createElement('canvas');
  const context = frame.getContext('2d', { willReadFrequently: true });
  return new Promise((resolve) => {
    let open = true;
    const close = (code) => {
      if (!open) return;
      open = false;
      for (const track of stream.getTracks()) track.stop();
      dialog.close();
      dialog.remove();
      resolve(code);
    };
    const dialog = h('dialog', { class: 'dialog', id: 'scan-dialog' },
      h('h2', {}, say('Scan the code')), video, hint,
      h('button', { class: 'big plain', id: 'scan-cancel', onclick: () => close(null) }, say('Type the code instead')));
    dialog.addEventListener('cancel', () => close(null));
    document.body.append(dialog);
    dialog.showModal();
    const look = async () => {
      if (!open) return;
      if (video.videoWidth > 0) {
        frame.width = video.videoWidth;
        frame.height = video.videoHeight;
        context.drawImage(video, 0, 0);
        const text = await readQr(context.getImageData(0, 0, frame.width, frame.height)).catch(() => null);
        const code = enrollmentCode(text);
        if (code) return close(code);
        if (text) hint.textContent = 'That QR code is not an enrollment code. Point the camera at the code your coordinator shows.';
      }
      setTimeout(look, SCAN_EVERY_MS);
    };
    video.play().catch(() => {}).finally(look);
  });
}
