import { describe, expect, it } from 'vitest';
import {
  DEFAULT_COMMAND_RULES,
  buildRegistry,
  formatCommandError,
  helpCommand,
  helpText,
  parseCommand,
  type CommandError,
  type CommandRules,
  type GenerateRequest,
  type ParsedCommand,
} from '../../src/commands/index.js';

const rules: CommandRules = {
  defaults: { width: 1024, height: 1024, steps: 8 },
  limits: { minSide: 256, maxSide: 1024, sideMultiple: 16, minSteps: 1, maxSteps: 16, maxCount: 4, maxPromptChars: 200 },
};

function generate(text: string, r: CommandRules = rules): GenerateRequest {
  const parsed = parseCommand(text, r);
  if (parsed.kind !== 'generate') throw new Error(`expected generate for ${JSON.stringify(text)}, got ${JSON.stringify(parsed)}`);
  return parsed.params;
}

function error(text: string, r: CommandRules = rules): CommandError {
  const parsed = parseCommand(text, r);
  if (parsed.kind !== 'error') throw new Error(`expected error for ${JSON.stringify(text)}, got ${JSON.stringify(parsed)}`);
  expect(text).toContain(parsed.error.fragment);
  return parsed.error;
}

describe('parseCommand: generate', () => {
  it('applies defaults: configured size and steps, one image, no seed', () => {
    expect(generate('a ginger cat')).toEqual({ prompt: 'a ginger cat', width: 1024, height: 1024, steps: 8, seed: undefined, count: 1 });
    const custom = { ...rules, defaults: { width: 768, height: 512, steps: 6 } };
    expect(generate('a ginger cat', custom)).toMatchObject({ width: 768, height: 512, steps: 6 });
  });

  it('reads every flag', () => {
    expect(generate('a ginger cat --seed 7 --size 512x768 --steps 4 --count 3')).toEqual({
      prompt: 'a ginger cat', width: 512, height: 768, steps: 4, seed: 7, count: 3,
    });
  });

  it('accepts flags anywhere and joins the prompt words around them', () => {
    expect(generate('--seed 7 a ginger --count 2 cat on a sill --size 512x512')).toMatchObject({
      prompt: 'a ginger cat on a sill', seed: 7, count: 2, width: 512, height: 512,
    });
  });

  it('accepts --flag=value, × and a capital X in sizes, and case-insensitive flag names', () => {
    expect(generate('cat --size=512×768 --seed=0')).toMatchObject({ width: 512, height: 768, seed: 0 });
    expect(generate('cat --size 768X512')).toMatchObject({ width: 768, height: 512 });
    expect(generate('cat --Size 256x256 --SEED 4294967295')).toMatchObject({ width: 256, height: 256, seed: 4294967295 });
  });

  it('accepts a size typed with spaces around the x', () => {
    expect(generate('cat --size 512 x 768 on a mat')).toMatchObject({ prompt: 'cat on a mat', width: 512, height: 768 });
    expect(generate('cat --size 512 ×768')).toMatchObject({ width: 512, height: 768 });
    expect(generate('cat --size 512x 768')).toMatchObject({ width: 512, height: 768 });
    expect(error('cat --size 512 x 13')).toMatchObject({ code: 'SIZE_OUT_OF_RANGE', fragment: '512 x 13' });
    expect(error('cat --size 512 x')).toMatchObject({ code: 'INVALID_SIZE', fragment: '512 x' });
  });

  it('accepts fullwidth digits and smart dashes typed by chat clients', () => {
    expect(generate('橘猫 --size ５１２ｘ５１２ —seed 3')).toMatchObject({ prompt: '橘猫', width: 512, height: 512, seed: 3 });
    expect(generate('sunset —dramatic lighting')).toMatchObject({ prompt: 'sunset —dramatic lighting' });
  });

  it('treats everything after a bare -- as prompt text', () => {
    expect(generate('--seed 1 -- a sign saying --seed 5 and --hello')).toMatchObject({ prompt: 'a sign saying --seed 5 and --hello', seed: 1 });
  });

  it('keeps a quoted prompt as one piece, straight or curly quotes', () => {
    expect(generate('"a cat --count 9   on a sill" --count 2')).toMatchObject({ prompt: 'a cat --count 9   on a sill', count: 2 });
    expect(generate('“一只猫 --seed 1” --seed 2')).toMatchObject({ prompt: '一只猫 --seed 1', seed: 2 });
    expect(generate('cat --size "512x512"')).toMatchObject({ prompt: 'cat', width: 512 });
  });

  it('treats an unmatched quote as an ordinary character', () => {
    expect(generate('a 12" vinyl record --seed 3')).toMatchObject({ prompt: 'a 12" vinyl record', seed: 3 });
    expect(generate('"unterminated prompt --seed 3')).toMatchObject({ prompt: '"unterminated prompt', seed: 3 });
  });

  it('keeps Unicode, emoji and chat markup as the user typed them', () => {
    expect(generate('窗台上的橘猫，清晨阳光 🐱✨')).toMatchObject({ prompt: '窗台上的橘猫，清晨阳光 🐱✨' });
    expect(generate('*bold* <@U123> &lt;b&gt; `code` --seed 1')).toMatchObject({ prompt: '*bold* <@U123> &lt;b&gt; `code`' });
  });

  it('treats a prompt that starts with another word (or with "help") as a prompt', () => {
    expect(generate('quota of apples')).toMatchObject({ prompt: 'quota of apples' });
    expect(generate('help me draw a cat')).toMatchObject({ prompt: 'help me draw a cat' });
    expect(generate('-h is a flag')).toMatchObject({ prompt: '-h is a flag' });
  });

  it('accepts a prompt of exactly the maximum length, counting characters not UTF-16 units', () => {
    expect(generate('a'.repeat(200)).prompt).toHaveLength(200);
    expect(Array.from(generate('🐱'.repeat(200)).prompt)).toHaveLength(200);
  });
});

describe('parseCommand: help', () => {
  it.each(['', '   ', 'help', 'HELP', '--help', '-h', '?', '？', '帮助', 'a cat --help', '--seed 3 --help'])('%j is help', (text) => {
    expect(parseCommand(text, rules)).toEqual({ kind: 'help' });
  });

  it('does not treat --help after -- or inside quotes as help', () => {
    expect(parseCommand('cat -- --help', rules).kind).toBe('generate');
    expect(parseCommand('"cat --help"', rules).kind).toBe('generate');
  });
});

describe('parseCommand: errors point at the fragment and say what is allowed', () => {
  const en = (e: CommandError): string => formatCommandError(e, 'en');

  it('empty prompt', () => {
    const e = error('--seed 7 --size 512x512');
    expect(e).toMatchObject({ code: 'EMPTY_PROMPT', fragment: '--seed 7 --size 512x512' });
    expect(en(e)).toContain('no description');
    expect(error('""').code).toBe('EMPTY_PROMPT');
    expect(error('--').code).toBe('EMPTY_PROMPT');
  });

  it('unknown flag with a did-you-mean suggestion', () => {
    const e = error('a cat --szie 512x512');
    expect(e).toMatchObject({ code: 'UNKNOWN_FLAG', fragment: '--szie', params: { suggestion: '--size' } });
    expect(en(e)).toContain('Unknown option “--szie”. Did you mean --size?');
    expect(error('cat --sed 4').params.suggestion).toBe('--seed');
    expect(error('cat --stpes 4').params.suggestion).toBe('--steps');
    expect(error('cat --Cont=2')).toMatchObject({ fragment: '--Cont', params: { suggestion: '--count' } });
    expect(error('cat --width 512').params.suggestion).toBe('--size');
  });

  it('unknown flag with nothing close lists the known flags', () => {
    const e = error('a cat --negative blurry');
    expect(e.fragment).toBe('--negative');
    expect(e.params.suggestion).toBeUndefined();
    expect(en(e)).toContain('Known options: --size, --seed, --steps, --count, --help.');
  });

  it('flag missing its value', () => {
    const e = error('a cat --seed');
    expect(e).toMatchObject({ code: 'MISSING_VALUE', fragment: '--seed', params: { flag: '--seed' } });
    expect(en(e)).toContain('“--seed” needs a value, e.g. --seed 42.');
    expect(error('a cat --size --seed 3')).toMatchObject({ code: 'MISSING_VALUE', fragment: '--size' });
    expect(error('a cat --steps=')).toMatchObject({ code: 'MISSING_VALUE', fragment: '--steps=' });
    expect(error('a cat --count -- more')).toMatchObject({ code: 'MISSING_VALUE', fragment: '--count' });
    expect(error('a cat --seed ""')).toMatchObject({ code: 'MISSING_VALUE', fragment: '--seed ""' });
  });

  it('duplicate flag quotes the second occurrence', () => {
    const e = error('a cat --seed 1 on a sill --seed=2');
    expect(e).toMatchObject({ code: 'DUPLICATE_FLAG', fragment: '--seed=2', params: { flag: '--seed' } });
    expect(en(e)).toContain('--seed is given more than once (“--seed=2”)');
    expect(error('cat --count 2 --count 3').fragment).toBe('--count 3');
  });

  it('size that is not WxH', () => {
    for (const [text, fragment] of [['cat --size big', 'big'], ['cat --size 512', '512'], ['cat --size=512x', '512x'], ['cat --size 5.5x512', '5.5x512']] as const) {
      expect(error(text)).toMatchObject({ code: 'INVALID_SIZE', fragment });
    }
    expect(en(error('cat --size big'))).toContain('“big” is not a size. Write width x height, e.g. --size 768x1024.');
  });

  it('size sides outside the range or not multiples of 16', () => {
    const e = error('cat --size 13x7');
    expect(e).toMatchObject({ code: 'SIZE_OUT_OF_RANGE', fragment: '13x7', params: { min: 256, max: 1024, multiple: 16, nearest: '256x256' } });
    expect(en(e)).toContain('Size “13x7” is not available: sizes are multiples of 16 between 256 and 1024 (closest: 256x256).');
    expect(error('cat --size 500x512').params.nearest).toBe('496x512');
    expect(error('cat --size 2048x1024').params.nearest).toBe('1024x1024');
    expect(error('cat --size 240x256').code).toBe('SIZE_OUT_OF_RANGE');
    expect(error('cat --size 0x0').code).toBe('SIZE_OUT_OF_RANGE');
  });

  it('seed not an integer in 0..4294967295', () => {
    for (const bad of ['-1', '4294967296', '1.5', 'abc', '1e3', '99999999999999999999']) {
      const e = error(`cat --seed ${bad}`);
      expect(e).toMatchObject({ code: 'INVALID_SEED', fragment: bad, params: { min: 0, max: 4294967295 } });
    }
    expect(en(error('cat --seed abc'))).toContain('Seed “abc” is not valid: use a whole number from 0 to 4294967295.');
  });

  it('steps out of range', () => {
    for (const bad of ['0', '17', 'eight', '2.5']) {
      expect(error(`cat --steps ${bad}`)).toMatchObject({ code: 'INVALID_STEPS', fragment: bad, params: { min: 1, max: 16 } });
    }
    expect(en(error('cat --steps 17'))).toContain('Steps “17” is not valid: use a whole number from 1 to 16.');
  });

  it('count outside 1..maxCount', () => {
    const e = error('cat --count 9');
    expect(e).toMatchObject({ code: 'INVALID_COUNT', fragment: '9', params: { min: 1, max: 4 } });
    expect(en(e)).toContain('Count “9” is not valid: you can ask for 1 to 4 images at once.');
    expect(error('cat --count 0').code).toBe('INVALID_COUNT');
    expect(generate('cat --count 4').count).toBe(4);
  });

  it('prompt too long quotes where it gets cut', () => {
    const text = `${'word '.repeat(39)}wordy tail that is cut off here --seed 3`;
    const e = error(text);
    expect(e.code).toBe('PROMPT_TOO_LONG');
    expect(e.params).toMatchObject({ max: 200 });
    // 39 × "word " = 195 characters, then "wordy" fills the limit: the cut falls on the space before "tail".
    expect(e.fragment).toBe('tail that is cut off here');
    expect(error(`${'a'.repeat(198)}bcdef --seed 1`).fragment).toBe('def');
    const long = error(`${'猫'.repeat(199)}🐱🐶🐭 rest`);
    expect(long.fragment).toBe('🐶🐭 rest');
    expect(long.params.length).toBe(207);
    expect(en(long)).toContain('The prompt is 207 characters long; the limit is 200. It would be cut off here: “🐶🐭 rest…”');
  });

  it('reports the first problem from the left', () => {
    expect(error('cat --count 9 --seed x').code).toBe('INVALID_COUNT');
    expect(error('cat --seed x --count 9').code).toBe('INVALID_SEED');
  });

  it('every message ends with where to find help, in both languages', () => {
    expect(en(error('cat --count 9'))).toMatch(/\/zimage help/);
    const zh = formatCommandError(error('a cat --szie 512x512'), 'zh-CN');
    expect(zh).toContain('无法识别的参数“--szie”。你是不是想输入 --size？');
    expect(zh).toContain('/zimage help');
    expect(formatCommandError(error('cat --size 13x7'), 'zh')).toContain('不支持尺寸“13x7”：宽和高都须是 16 的倍数，且在 256 到 1024 之间');
  });
});

describe('subcommand registry', () => {
  it('dispatches on the first word and falls back to a prompt when the subcommand declines', () => {
    const echo = {
      names: ['status'],
      parse: (rest: string): ParsedCommand | undefined => (rest === '' ? { kind: 'help' } : undefined),
    };
    const registry = buildRegistry([helpCommand, echo]);
    expect(parseCommand('STATUS', rules, registry)).toEqual({ kind: 'help' });
    expect(parseCommand('status of a cat', rules, registry)).toMatchObject({ kind: 'generate', params: { prompt: 'status of a cat' } });
    expect(parseCommand('status', rules)).toMatchObject({ kind: 'generate', params: { prompt: 'status' } });
  });
});

describe('helpText', () => {
  it('explains the grammar with the limits in force, in both languages', () => {
    const en = helpText('en', DEFAULT_COMMAND_RULES);
    expect(en).toContain('--size WxH');
    expect(en).toContain('default 1024x1024');
    expect(en).toContain('from 256 to 1024');
    expect(en).toContain('0 to 4294967295');
    expect(en).toContain('/zimage a ginger cat');
    const zh = helpText('zh-CN', rules);
    expect(zh).toContain('--size 宽x高');
    expect(zh).toContain('最长 200 个字符');
    expect(zh).not.toContain('{');
  });
});

describe('parseCommand never throws', () => {
  // Deterministic PRNG so a failure is reproducible.
  function rng(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let x = s;
      x = Math.imul(x ^ (x >>> 15), x | 1);
      x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
      return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
  }
  const atoms = [
    '--size', '--seed', '--steps', '--count', '--help', '--', '-h', '--szie', '=', '＝', '512x512', '13x7', '×', 'x',
    '"', '“', '”', '„', ' ', '  ', '\n', '\t', '\u3000', '7', '-1', '4294967296', '猫', '🐱', '\uD83D', '\uDC31', 'a cat',
    'help', '?', '—', '–', '—seed', '--size=', '--seed=9', '１２', '<@U1>', '&amp;', '\u0000', '\\', '{fragment}',
  ];
  const tight: CommandRules = { ...rules, limits: { ...rules.limits, maxPromptChars: 12 } };

  it('returns help, generate or an error whose fragment is in the input, for 20 000 random inputs', () => {
    const random = rng(20260101);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    let errors = 0;
    for (let n = 0; n < 20_000; n++) {
      let text = '';
      const parts = Math.floor(random() * 12);
      for (let k = 0; k < parts; k++) {
        const roll = random();
        if (roll < 0.6) text += pick(atoms);
        else if (roll < 0.8) text += String.fromCharCode(Math.floor(random() * 0x3000));
        else text += ` ${Math.floor(random() * 5000)}`;
        if (random() < 0.5) text += ' ';
      }
      for (const r of [rules, tight]) {
        let parsed: ParsedCommand;
        try {
          parsed = parseCommand(text, r);
        } catch (err) {
          throw new Error(`parseCommand threw on ${JSON.stringify(text)}: ${String(err)}`);
        }
        expect(['help', 'generate', 'error']).toContain(parsed.kind);
        if (parsed.kind === 'error') {
          errors++;
          if (!text.includes(parsed.error.fragment) || parsed.error.fragment === '') {
            throw new Error(`fragment ${JSON.stringify(parsed.error.fragment)} not in ${JSON.stringify(text)}`);
          }
          const message = formatCommandError(parsed.error, n % 2 ? 'en' : 'zh-CN');
          if (!text.includes('{')) expect(message).not.toMatch(/\{[a-z]+\}/i);
        }
        if (parsed.kind === 'generate') {
          expect(parsed.params.prompt.trim()).not.toBe('');
          expect(Array.from(parsed.params.prompt).length).toBeLessThanOrEqual(r.limits.maxPromptChars);
        }
      }
    }
    expect(errors).toBeGreaterThan(1000);
  });

  it('survives mutations of valid commands', () => {
    const random = rng(7);
    const seeds = ['a ginger cat --seed 7 --size 512x512', '"橘猫 🐱" --count=2 --steps 4', 'x -- --seed 1', '“quoted” --size 768×1024'];
    for (let n = 0; n < 10_000; n++) {
      let text = seeds[n % seeds.length]!;
      const edits = 1 + Math.floor(random() * 4);
      for (let k = 0; k < edits; k++) {
        const at = Math.floor(random() * (text.length + 1));
        const op = random();
        if (op < 0.33) text = text.slice(0, at) + text.slice(at + 1);
        else if (op < 0.66) text = text.slice(0, at) + atoms[Math.floor(random() * atoms.length)]! + text.slice(at);
        else text = text.slice(0, at) + text.slice(at, at + 3) + text.slice(at);
      }
      const parsed = parseCommand(text, rules);
      if (parsed.kind === 'error' && (!text.includes(parsed.error.fragment) || parsed.error.fragment === '')) {
        throw new Error(`fragment ${JSON.stringify(parsed.error.fragment)} not in ${JSON.stringify(text)}`);
      }
    }
  });
});

describe('parseCommand on very large input', () => {
  it('stays linear: 200 000 characters of words, quotes and flags parse quickly', () => {
    const inputs = [
      'word '.repeat(40_000),
      '"a '.repeat(66_000),
      `--${'z'.repeat(200_000)}`,
      '--seed '.repeat(28_000),
      `${'猫🐱'.repeat(60_000)} --seed 1`,
    ];
    for (const text of inputs) {
      const started = performance.now();
      const parsed = parseCommand(text, rules);
      expect(performance.now() - started).toBeLessThan(2000);
      if (parsed.kind === 'error') {
        expect(text).toContain(parsed.error.fragment);
        expect(Array.from(parsed.error.fragment).length).toBeLessThanOrEqual(80);
      }
    }
  });
});

describe('formatCommandError in Chinese', () => {
  it.each([
    ['--seed 7', '“--seed 7”里只有参数，缺少画面描述。请先写下想画的内容，例如：/zimage 窗台上的橘猫 --seed 7'],
    ['猫 --seed', '“--seed”后面需要跟一个值，例如 --seed 42。'],
    ['猫 --seed 1 --seed 2', '--seed 出现了不止一次（“--seed 2”），请只保留一个。'],
    ['猫 --size 大', '“大”不是有效的尺寸。请写成 宽x高，例如 --size 768x1024。'],
    ['猫 --seed -3', '种子“-3”无效：请填写 0 到 4294967295 之间的整数。'],
    ['猫 --steps 99', '步数“99”无效：请填写 1 到 16 之间的整数。'],
    ['猫 --count 9', '张数“9”无效：每次可以生成 1 到 4 张。'],
    ['猫 --negative 模糊', '无法识别的参数“--negative”。可用的参数有：--size, --seed, --steps, --count, --help。'],
  ])('%j', (text, expected) => {
    const parsed = parseCommand(text, rules);
    if (parsed.kind !== 'error') throw new Error(`expected an error for ${text}`);
    expect(formatCommandError(parsed.error, 'zh-CN')).toBe(`${expected}\n发送 /zimage help 查看完整用法和示例。`);
  });
});
