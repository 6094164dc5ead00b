import { h, replace } from './dom.js';

/**
 * Where the image will be seen, at real size: an email client's 600 px column (light and dark),
 * a WhatsApp bubble, a social link card (Open Graph). Each frame shows the same object URL as
 * the preview, so it is the shipped bytes, not a re-render.
 */
export interface ChannelFrames {
  readonly element: HTMLElement;
  show(url: string, alt: string, templateName: string): void;
}

export function createChannelFrames(): ChannelFrames {
  const light = h('div', { class: 'column' });
  const dark = h('div', { class: 'column' });
  const bubble = h('div', { class: 'bubble' });
  const card = h('div', { class: 'og' });
  const element = h(
    'section',
    { class: 'frames', 'aria-label': 'Channel frames' },
    h('div', { class: 'frame' }, h('h3', {}, 'Email, light (600 px column)'), h('div', { class: 'mail light' }, h('div', { class: 'mail-head' }, 'From: Your brand · Subject: A picture just for you'), light)),
    h('div', { class: 'frame' }, h('h3', {}, 'Email, dark mode'), h('div', { class: 'mail dark' }, h('div', { class: 'mail-head' }, 'From: Your brand · Subject: A picture just for you'), dark)),
    h('div', { class: 'frame' }, h('h3', {}, 'WhatsApp'), h('div', { class: 'whatsapp' }, bubble)),
    h('div', { class: 'frame' }, h('h3', {}, 'Social link card (Open Graph)'), card),
  );
  return {
    element,
    show(url, alt, templateName) {
      const image = () => h('img', { src: url, alt });
      replace(light, image(), h('p', {}, 'Hello! The image above is made for this recipient.'));
      replace(dark, image(), h('p', {}, 'Hello! The image above is made for this recipient.'));
      replace(bubble, image(), h('span', {}, '12:04 ✓✓'));
      replace(card, image(), h('div', { class: 'og-text' }, h('strong', {}, templateName), 'example.com'));
    },
  };
}
