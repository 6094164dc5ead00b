import { describe, expect, it } from 'vitest';
import { changedTemplateIds } from '../../../../src/server/routes/events.js';

describe('changedTemplateIds', () => {
  it('names the template folders whose files changed', () => {
    const changed = new Map([['/srv/templates', ['mini/style.css', 'mini/assets/logo.png', 'welcome/template.html']]]);
    expect(changedTemplateIds(changed, '/srv/templates')).toEqual(['mini', 'welcome']);
  });

  it('says every template (*) for a shared style or a change the platform did not name', () => {
    expect(changedTemplateIds(new Map([['/srv/styles', ['fonts.css']]]), '/srv/templates')).toEqual(['*']);
    expect(changedTemplateIds(new Map([['/srv/templates', []]]), '/srv/templates')).toEqual(['*']);
    expect(changedTemplateIds(new Map([['/srv/templates', ['mini/template.json']], ['/srv/styles', ['fit.css']]]), '/srv/templates')).toEqual(['*', 'mini']);
  });
});
