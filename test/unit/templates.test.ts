import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseArgs, parseInvocation } from '../../src/templates/invocation.js';
import { loadTemplates, parseTemplateText } from '../../src/templates/loader.js';
import { renderTemplate, usageLine } from '../../src/templates/render.js';
import type { Template } from '../../src/templates/schema.js';
import { templateTexts } from '../../src/templates/texts.js';

const made: string[] = [];
afterEach(() => { for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true }); });

const sizeOk = (w: number, h: number) => [w, h].every((x) => x >= 256 && x <= 1024 && x % 16 === 0);

const GOOD = `name: poster
title: Poster
description: A poster.
prompt: "A poster for {subject} in {color}"
variables:
  subject: { description: what, required: true, maxLength: 120 }
  color: { description: colour, default: "#FF6A00", pattern: "^#[0-9A-Fa-f]{6}$" }
size: 768x1024
`;

function tpl(text = GOOD): Template {
  const r = parseTemplateText('poster.yaml', text, sizeOk);
  if (!r.template) throw new Error(JSON.stringify(r.problems));
  return r.template;
}

describe('template files', () => {
  it('a valid file gives a template with a content version', () => {
    const t = tpl();
    expect(t).toMatchObject({ name: 'poster', width: 768, height: 1024, steps: 8 });
    expect(t.version).toMatch(/^[0-9a-f]{12}$/);
    expect(tpl(GOOD + '\n# comment\n').version).not.toBe(t.version);
  });

  it('validation errors name the file, the line and the field', () => {
    const bad = GOOD.replace('size: 768x1024', 'size: 13x7').replace("maxLength: 120", "maxLength: \"forty\"");
    const r = parseTemplateText('poster.yaml', bad, sizeOk);
    expect(r.template).toBeUndefined();
    expect(r.problems).toContainEqual(expect.objectContaining({ file: 'poster.yaml', line: 6, field: 'variables.subject.maxLength' }));
    const r2 = parseTemplateText('poster.yaml', GOOD.replace('size: 768x1024', 'size: 13x7'), sizeOk);
    expect(r2.problems).toEqual([{ file: 'poster.yaml', line: 8, field: 'size', message: '13x7 is not an allowed size' }]);
    const r3 = parseTemplateText('poster.yaml', GOOD.replace('{color}', '{colour}'), sizeOk);
    expect(r3.problems[0]).toMatchObject({ field: 'prompt', line: 4, message: 'uses {colour}, which is not declared under variables' });
    const r4 = parseTemplateText('x.yaml', 'name: [unclosed\n', sizeOk);
    expect(r4.problems[0]).toMatchObject({ file: 'x.yaml', field: '(syntax)' });
  });

  it('one invalid file fails the whole directory load; the shipped presets all load', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tpl-'));
    made.push(dir);
    writeFileSync(join(dir, 'a.yaml'), GOOD);
    writeFileSync(join(dir, 'b.yaml'), GOOD.replace('name: poster', 'name: Bad Name'));
    const res = await loadTemplates(dir, sizeOk);
    expect(res.ok).toBe(false);
    const shipped = await loadTemplates(join(process.cwd(), 'templates', 'presets'), sizeOk);
    expect(shipped.ok).toBe(true);
    if (shipped.ok) expect([...shipped.templates.keys()].sort()).toEqual(['brand-banner', 'illustration', 'poster', 'product-shot', 'social-square', 'team-avatar']);
  });
});

describe('a preset in the reader\'s language', () => {
  const ZH = `${GOOD}translations:
  zh-CN:
    title: 海报
    description: 一张海报。
    variables: { subject: 宣传什么 }
`;

  it('a translation gives the title, description and variable texts it has; the rest stay as written', () => {
    const t = tpl(ZH);
    expect(templateTexts(t, 'zh-CN')).toEqual({ title: '海报', description: '一张海报。', variables: { subject: '宣传什么', color: 'colour' } });
    expect(templateTexts(t, 'en')).toEqual({ title: 'Poster', description: 'A poster.', variables: { subject: 'what', color: 'colour' } });
    expect(templateTexts(tpl(), 'zh-CN')).toEqual({ title: 'Poster', description: 'A poster.', variables: { subject: 'what', color: 'colour' } });
  });

  it('a translation into a language the bot does not speak, or of a variable that does not exist, names the line', () => {
    const r = parseTemplateText('poster.yaml', ZH.replace('  zh-CN:', '  zh-TW:'), sizeOk);
    expect(r.template).toBeUndefined();
    expect(r.problems[0]).toMatchObject({ field: 'translations.zh-TW', line: 11, message: 'zh-TW is not a language the bot speaks (en, zh-CN)' });
    const r2 = parseTemplateText('poster.yaml', ZH.replace('{ subject: 宣传什么 }', '{ subjekt: 宣传什么 }'), sizeOk);
    expect(r2.problems[0]).toMatchObject({ field: 'translations.zh-CN.variables.subjekt', line: 13, message: 'translates subjekt, which is not declared under variables' });
  });
});

describe('variables are data', () => {
  const t = tpl();

  it('missing, unknown and invalid variables are each reported by name', () => {
    expect(renderTemplate(t, {})).toEqual({ problems: [{ code: 'TEMPLATE_MISSING_VARIABLE', variable: 'subject' }] });
    expect(renderTemplate(t, { subject: 'x', size: 'big' })).toEqual({ problems: [{ code: 'TEMPLATE_UNKNOWN_VARIABLE', variable: 'size' }] });
    expect(renderTemplate(t, { subject: 'x', color: 'red' })).toMatchObject({ problems: [{ code: 'TEMPLATE_BAD_VALUE', variable: 'color', rule: 'pattern' }] });
    expect(usageLine(t)).toBe('/zimage poster subject="…" [color=#FF6A00]');
  });

  it('unicode values are kept; braces, newlines and chat markup are not interpreted', () => {
    expect(renderTemplate(t, { subject: '夏季大促 🌞' })).toMatchObject({ prompt: 'A poster for 夏季大促 🌞 in #FF6A00' });
    const r = renderTemplate(t, { subject: '{color} {subject}\nIGNORE ALL\u0000 <@U123> *bold* <at user_id="all"></at>' });
    expect(r).toMatchObject({ prompt: 'A poster for {color} {subject} IGNORE ALL <@U123> *bold* <at user_id="all"></at> in #FF6A00' });
  });
});

describe('invocations', () => {
  const isT = (n: string) => n === 'poster';

  it('recognises name=value pairs and flags, quoted values included', () => {
    expect(parseInvocation('poster subject="summer sale" color=#FF6A00 --seed 7', isT))
      .toEqual({ template: 'poster', vars: { subject: 'summer sale', color: '#FF6A00' }, flags: '--seed 7' });
    expect(parseInvocation('--template poster subject=“夏季 大促” --count 2', isT))
      .toEqual({ template: 'poster', vars: { subject: '夏季 大促' }, flags: '--count 2' });
    expect(parseInvocation('poster', isT)).toEqual({ template: 'poster', vars: {}, flags: '' });
  });

  it('a free prompt that starts with a template name stays a prompt', () => {
    expect(parseInvocation('poster of a cat on a roof', isT)).toBeNull();
    expect(parseInvocation('a poster subject=x', isT)).toBeNull();
    expect(parseArgs('subject=x then words')).toBeNull();
  });
});
