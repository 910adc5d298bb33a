import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { sentinelOptions } from '../../src/infra/redis.js';

const base = { CONFIG_FILE: '', DATA_DIR: '/tmp/zimage-cfg' };

describe('operations configuration', () => {
  it('defaults: local asset store, keep forever, 12 delivery attempts, alerts off', () => {
    const c = loadConfig(base);
    expect(c.env).toMatchObject({ ASSET_STORE: 'local', ASSET_RETENTION_DAYS: 0, DELIVERY_ATTEMPTS: 12, ALERT_P95_WAIT_MS: 120_000, ALERT_FAILURE_RATE: 0.1 });
    expect(c.env.ALERT_THREAD).toBeUndefined();
  });

  it('names the variable and the fix when a value is wrong', () => {
    expect(() => loadConfig({ ...base, ASSET_STORE: 's3' })).toThrow(/ASSET_STORE=s3 needs S3_BUCKET/);
    expect(() => loadConfig({ ...base, ASSET_STORE: 's3', S3_BUCKET: 'images', S3_ACCESS_KEY_ID: 'AKIA' })).toThrow(/S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together/);
    expect(() => loadConfig({ ...base, ASSET_STORE: 'ftp' })).toThrow(/ASSET_STORE="ftp"/);
    expect(() => loadConfig({ ...base, S3_BUCKET: 'Bad_Bucket' })).toThrow(/S3_BUCKET=.*bucket name/);
    expect(() => loadConfig({ ...base, ALERT_THREAD: 'general' })).toThrow(/ALERT_THREAD=.*<platform>:<id>/);
    expect(() => loadConfig({ ...base, ALERT_FAILURE_RATE: '5' })).toThrow(/ALERT_FAILURE_RATE=.*fraction/);
    expect(() => loadConfig({ ...base, S3_PREFIX: 'zimage' })).toThrow(/S3_PREFIX=.*ending in \//);
    expect(() => loadConfig({ ...base, METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN \(5 characters, value not shown\): use at least 16 characters/);
    expect(loadConfig({ ...base, ASSET_STORE: 's3', S3_BUCKET: 'zimage-images', S3_ENDPOINT: 'http://minio:9000', S3_PREFIX: 'bot/' }).env.S3_BUCKET).toBe('zimage-images');
  });

  it('accepts a Redis Cluster hash tag as queue prefix and a Sentinel URL', () => {
    expect(loadConfig({ ...base, QUEUE_PREFIX: '{zimage}' }).env.QUEUE_PREFIX).toBe('{zimage}');
    expect(() => loadConfig({ ...base, QUEUE_PREFIX: '{zimage' })).toThrow(/QUEUE_PREFIX/);
    expect(loadConfig({ ...base, REDIS_URL: 'redis-sentinel://s1:26379,s2/mymaster' }).env.REDIS_URL).toContain('sentinel');
    expect(sentinelOptions('redis-sentinel://:p%40ss@s1:26379,s2/mymaster?db=2')).toEqual({
      sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }], name: 'mymaster', db: 2, password: 'p@ss',
    });
    expect(sentinelOptions('redis://localhost:6379')).toBeNull();
  });
});
