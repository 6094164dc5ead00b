import { connectEvents } from './events.js';
import { mountGallery } from './gallery.js';
import { mountTemplatePage } from './templatePage.js';

/** The studio's entry module: reads which view the server rendered and mounts it. */
const main = document.getElementById('main')!;
const view = document.querySelector<HTMLMetaElement>('meta[name="studio-view"]')?.content;
const context = connectEvents();
if (view === 'template') {
  const id = document.querySelector<HTMLMetaElement>('meta[name="studio-template"]')!.content;
  void mountTemplatePage(main, id, context);
} else {
  void mountGallery(main, context);
}
