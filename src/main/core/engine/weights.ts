/**
 * Pretrained weights (DESIGN section 6): the catalogue of the files our methods use, as timm
 * publishes them on the Hugging Face hub, and a manager over the workspace cache `<workspace>/weights/`.
 *
 * - fetch: HTTP download with progress into `<id>.safetensors.part`, resumed with a Range request
 *   after a cut connection (automatically a few times, and on the next call), then the sha256 is
 *   checked (when the catalogue knows it), the file is checked to load as its architecture, and only
 *   then renamed into place. A file in the cache is therefore always complete and verified.
 * - import: a local file (for offline machines): verified the same way, then copied in atomically.
 * - offline: a clear message that says how to import.
 *
 * Each cached file has a sidecar `<id>.json` with its sha256, size, origin and time. The network is
 * a constructor parameter (`fetchImpl`) so tests run against a local server.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from '../../../shared/errors';
import type { FetchProgress, LocalRecord, VerifyResult, WeightsEntry, WeightsStatus } from '../../../shared/calls/engine';
export type { FetchProgress, LocalRecord, VerifyResult, WeightsEntry, WeightsStatus };
import { sha256File, writeFileAtomic } from '../fs-util';
import { architectureParameters, checkArchitecture, float32Bytes, isBuiltArch, randomWeights, type BuiltArch } from './backbones/index';
import { readSafetensorsHeader, writeSafetensors } from './safetensors';

function hubUrl(repo: string): string {
  return `https://huggingface.co/${repo}/resolve/main/model.safetensors`;
}

function approx(arch: BuiltArch): string {
  return `~${Math.round(float32Bytes(arch) / 1e6)} MB (estimate)`;
}

/** The weights our methods use. Sizes and hashes only where verified (DESIGN section 6). */
export const WEIGHTS_CATALOG: readonly WeightsEntry[] = [
  {
    id: 'wide_resnet50_2.tv_in1k',
    arch: 'wide_resnet50_2',
    repo: 'timm/wide_resnet50_2.tv_in1k',
    url: hubUrl('timm/wide_resnet50_2.tv_in1k'),
    bytes: null,
    sha256: 'df6fb6c4824769769de18e14088475fd6ee94236849aa4e5d8022ba9d9a9a16c',
    sizeHint: '276 MB',
    usedBy: ['PatchCore', 'Reverse Distillation', 'FastFlow'],
  },
  {
    id: 'resnet18.tv_in1k',
    arch: 'resnet18',
    repo: 'timm/resnet18.tv_in1k',
    url: hubUrl('timm/resnet18.tv_in1k'),
    bytes: null,
    sha256: null,
    sizeHint: approx('resnet18'),
    usedBy: ['tests and demos (a small backbone)'],
  },
  {
    id: 'efficientnet_b4.ra2_in1k',
    arch: 'efficientnet_b4',
    repo: 'timm/efficientnet_b4.ra2_in1k',
    url: hubUrl('timm/efficientnet_b4.ra2_in1k'),
    bytes: null,
    // Hugging Face lists the file as 77.9 MB (timm/efficientnet_b4.ra2_in1k, files); no published sha256 was found.
    sha256: null,
    sizeHint: '77.9 MB',
    usedBy: ['UniAD (timm variant)'],
  },
  {
    // UniAD's official backbone (models/backbones/efficientnet: lukemelas' url_map), the TF port with
    // lukemelas' names; its sha256 prefix is in the name, but that hashes the .pth, not the converted file.
    id: 'tf_efficientnet_b4.lukemelas',
    arch: 'tf_efficientnet_b4',
    repo: 'lukemelas/EfficientNet-PyTorch',
    url: 'https://github.com/lukemelas/EfficientNet-PyTorch/releases/download/1.0/efficientnet-b4-6ed6700e.pth',
    bytes: null,
    sha256: null,
    sizeHint: approx('tf_efficientnet_b4'),
    usedBy: ['UniAD (official backbone)'],
    published: 'pth',
  },
];

export interface FetchOptions {
  onProgress?: (p: FetchProgress) => void;
  signal?: AbortSignal;
}

export type FetchLike = (url: string, init: { headers: Record<string, string>; signal?: AbortSignal }) => Promise<Response>;

export interface WeightsManagerOptions {
  /** The workspace folder; the cache is `<workspace>/weights`. */
  workspaceDir: string;
  fetchImpl?: FetchLike;
  catalog?: readonly WeightsEntry[];
  /** Automatic resumes after a cut connection within one fetch (default 3). */
  retries?: number;
  /** Minimum bytes between two progress callbacks (default 1 MiB). */
  progressEvery?: number;
}

/** Error codes that mean "no network" rather than "the server said no". */
const OFFLINE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

function causeCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The first few problems and how many more: a wrong architecture yields hundreds. */
function summarise(problems: string[]): string {
  return problems.length <= 3 ? problems.join('; ') : `${problems.slice(0, 3).join('; ')}; and ${problems.length - 3} more problems`;
}

export { sha256File };

async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch {
    return null;
  }
}

export class WeightsManager {
  readonly dir: string;
  private readonly fetchImpl: FetchLike;
  private readonly catalog: readonly WeightsEntry[];
  private readonly retries: number;
  private readonly progressEvery: number;

  constructor(private readonly options: WeightsManagerOptions) {
    this.dir = join(options.workspaceDir, 'weights');
    this.fetchImpl = options.fetchImpl ?? ((url, init) => fetch(url, init));
    this.catalog = options.catalog ?? WEIGHTS_CATALOG;
    this.retries = options.retries ?? 3;
    this.progressEvery = options.progressEvery ?? 1 << 20;
  }

  entry(id: string): WeightsEntry {
    const e = this.catalog.find((c) => c.id === id);
    if (!e) throw new LabError(`unknown weights id ${JSON.stringify(id)}; known: ${this.catalog.map((c) => c.id).join(', ')}`, 'NotFoundError');
    return e;
  }

  pathFor(id: string): string {
    return join(this.dir, `${id}.safetensors`);
  }

  private recordPath(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  private async readRecord(id: string): Promise<LocalRecord | null> {
    try {
      return JSON.parse(await readFile(this.recordPath(id), 'utf8')) as LocalRecord;
    } catch {
      return null;
    }
  }

  async status(id: string): Promise<WeightsStatus> {
    const e = this.entry(id);
    const path = this.pathFor(id);
    return {
      ...e,
      path,
      present: (await sizeOf(path)) !== null,
      partialBytes: await sizeOf(`${path}.part`),
      local: await this.readRecord(id),
    };
  }

  async list(): Promise<WeightsStatus[]> {
    return Promise.all(this.catalog.map((e) => this.status(e.id)));
  }

  /**
   * Checks a file against an entry: sha256 (only refused on mismatch when `requireHash`), and the
   * structure when we can build the architecture. Returns the findings; never throws for a bad file.
   */
  async inspect(e: WeightsEntry, path: string, requireHash: boolean): Promise<VerifyResult> {
    const problems: string[] = [];
    const sha = await sha256File(path);
    const matchesPublished = e.sha256 === null ? null : sha === e.sha256;
    if (requireHash && matchesPublished === false) {
      problems.push(`sha256 mismatch: expected ${e.sha256}, got ${sha}`);
    }
    let structure: 'checked' | 'unchecked' = 'unchecked';
    try {
      const header = await readSafetensorsHeader(path);
      if (isBuiltArch(e.arch)) {
        structure = 'checked';
        problems.push(...checkArchitecture(e.arch, header.tensors));
      }
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
    return { id: e.id, ok: problems.length === 0, path, sha256: sha, matchesPublished, structure, problems };
  }

  /** Re-checks the cached file: hash against the catalogue (when known) and the architecture. */
  async verify(id: string): Promise<VerifyResult> {
    const e = this.entry(id);
    const path = this.pathFor(id);
    if ((await sizeOf(path)) === null) {
      return { id, ok: false, path, sha256: null, matchesPublished: null, structure: 'unchecked', problems: [`${id} is not in the cache (${path}); fetch or import it`] };
    }
    // An imported file may legitimately differ from the published one (a fine-tuned copy), so its
    // hash is compared with the one recorded at import instead.
    const record = await this.readRecord(id);
    const result = await this.inspect(e, path, record?.source !== 'import');
    if (record && result.sha256 !== record.sha256) result.problems.push(`file changed since it was stored: sha256 ${result.sha256}, recorded ${record.sha256}`);
    result.ok = result.problems.length === 0;
    return result;
  }

  private async store(e: WeightsEntry, staged: string, source: LocalRecord['source'], from: string, check: VerifyResult): Promise<WeightsStatus> {
    const final = this.pathFor(e.id);
    await rename(staged, final);
    const record: LocalRecord = {
      sha256: check.sha256 as string,
      bytes: (await sizeOf(final)) ?? 0,
      source,
      from,
      at: new Date().toISOString(),
      matchesPublished: check.matchesPublished,
      structure: check.structure,
    };
    await writeFileAtomic(this.recordPath(e.id), JSON.stringify(record, null, 2) + '\n');
    return this.status(e.id);
  }

  /** Imports a local file as `id` after checking it loads as the architecture. */
  async import(id: string, file: string): Promise<WeightsStatus> {
    const e = this.entry(id);
    if ((await sizeOf(file)) === null) throw new LabError(`${file}: no such file`, 'NotFoundError');
    const check = await this.inspect(e, file, false);
    if (!check.ok) throw new LabError(`${file} cannot be imported as ${id}: ${summarise(check.problems)}`, 'ValidationError');
    await mkdir(this.dir, { recursive: true });
    const staged = join(this.dir, `.${id}.${randomBytes(6).toString('hex')}.import`);
    try {
      await copyFile(file, staged);
      // Guards against the source changing while it was copied.
      if ((await sha256File(staged)) !== check.sha256) throw new LabError(`${file} changed while it was being imported; try again`);
      return await this.store(e, staged, 'import', file, check);
    } finally {
      await unlink(staged).catch(() => undefined);
    }
  }

  /** Writes seeded random weights (torchvision's init) for a built architecture; returns the file. */
  async writeRandom(arch: BuiltArch, seed: number): Promise<{ path: string; arch: BuiltArch; seed: number }> {
    const path = join(this.dir, `${arch}.random-${seed}.safetensors`);
    await writeSafetensors(path, randomWeights(arch, seed), { arch, init: 'random', seed: String(seed), format: 'pt' });
    return { path, arch, seed };
  }

  private offlineError(e: WeightsEntry, code: string): LabError {
    const host = new URL(e.url).host;
    return new LabError(
      `cannot download ${e.id}: ${host} is unreachable (${code}); this machine looks offline. ` +
        `Download ${e.url} on a connected machine, then import it: ` +
        `miad-lab weights import --workspace ${this.options.workspaceDir} --id ${e.id} FILE`,
    );
  }

  /** Downloads `id` into the cache (resuming a `.part` left by an earlier attempt); see the module comment. */
  async fetch(id: string, options: FetchOptions = {}): Promise<WeightsStatus> {
    const e = this.entry(id);
    const final = this.pathFor(id);
    if ((await sizeOf(final)) !== null) return this.status(id);
    if (e.published === 'pth') {
      throw new LabError(
        `${id} is published only as a PyTorch .pth (${e.url}), which the lab does not load. Download it, convert it ` +
          `(/usr/bin/python3 scripts/pth-to-safetensors.py FILE.pth OUT.safetensors keeps every tensor name), then: ` +
          `miad-lab weights import --workspace ${this.options.workspaceDir} --id ${id} OUT.safetensors`,
        'ValidationError',
      );
    }
    await mkdir(this.dir, { recursive: true });
    const part = `${final}.part`;
    let failures = 0;
    for (;;) {
      const outcome = await this.attempt(e, part, options);
      if (outcome === 'complete') break;
      failures++;
      if (failures > this.retries) {
        const have = (await sizeOf(part)) ?? 0;
        throw new LabError(`download of ${id} was interrupted ${failures} times (${have} bytes kept in ${part}): ${outcome.message}; run the fetch again to resume`);
      }
    }
    const check = await this.inspect(e, part, true);
    if (!check.ok) {
      // A corrupt download cannot be repaired by resuming it: start over next time.
      await unlink(part).catch(() => undefined);
      throw new LabError(`downloaded ${id} from ${e.url} was refused: ${summarise(check.problems)}`, 'ValidationError');
    }
    return this.store(e, part, 'download', e.url, check);
  }

  /** One HTTP request; 'complete' or the error that cut it (to be retried). Throws for fatal errors. */
  private async attempt(e: WeightsEntry, part: string, options: FetchOptions): Promise<'complete' | Error> {
    let have = (await sizeOf(part)) ?? 0;
    const headers: Record<string, string> = { 'user-agent': 'miad-lab' };
    if (have > 0) headers.range = `bytes=${have}-`;
    let res: Response;
    try {
      res = await this.fetchImpl(e.url, { headers, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (error) {
      if (options.signal?.aborted) throw new LabError(`download of ${e.id} was cancelled`);
      const code = causeCode(error);
      if (code && OFFLINE_CODES.has(code)) throw this.offlineError(e, code);
      return error instanceof Error ? error : new Error(String(error));
    }
    // 416: the range starts at or past the end, so what we hold is already the whole file.
    if (res.status === 416 && have > 0) {
      await res.body?.cancel();
      return 'complete';
    }
    let total: number | null = null;
    if (res.status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
      if (!m || Number(m[1]) !== have) {
        await res.body?.cancel();
        await unlink(part).catch(() => undefined);
        return new Error(`server answered a different range (${res.headers.get('content-range')}); restarting`);
      }
      total = m[3] === '*' ? null : Number(m[3]);
    } else if (res.status === 200) {
      have = 0; // the server ignored the range: start over
      const len = res.headers.get('content-length');
      total = len ? Number(len) : null;
    } else {
      await res.body?.cancel();
      throw new LabError(`download of ${e.id} failed: HTTP ${res.status} ${res.statusText} from ${e.url}`);
    }
    if (e.bytes !== null && total !== null && total !== e.bytes) {
      await res.body?.cancel();
      throw new LabError(`download of ${e.id}: the server offers ${total} bytes, the catalogue expects ${e.bytes}`);
    }
    const handle = await open(part, have > 0 ? 'a' : 'w');
    let received = have;
    let lastReport = -Infinity;
    try {
      if (!res.body) throw new Error('empty response body');
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        await handle.write(chunk);
        received += chunk.length;
        if (options.onProgress && received - lastReport >= this.progressEvery) {
          lastReport = received;
          options.onProgress({ id: e.id, received, total });
        }
      }
      await handle.sync();
    } catch (error) {
      if (options.signal?.aborted) throw new LabError(`download of ${e.id} was cancelled (${received} bytes kept for resuming)`);
      return error instanceof Error ? error : new Error(String(error));
    } finally {
      await handle.close();
    }
    options.onProgress?.({ id: e.id, received, total });
    if (total !== null && received < total) return new Error(`connection closed after ${received} of ${total} bytes`);
    return 'complete';
  }
}

/** Expected tensors for the UI / CLI (`weights list --json`): count and whether we can check them. */
export function architectureSummary(arch: string): { buildable: boolean; tensors: number | null } {
  const params = architectureParameters(arch);
  return { buildable: params !== null, tensors: params ? params.size : null };
}
