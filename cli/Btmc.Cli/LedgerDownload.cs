using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Btmc.Chains;
using Btmc.Ledger;

namespace Btmc.Cli;

/// <summary>A chain as <c>GET /api/ledger/checkpoints</c> lists it: its head's height and entry count.</summary>
internal sealed record RemoteChain(string ChainId, long Height, long Size);

/// <summary>A checkpoint as <c>GET /api/ledger/checkpoints/{chainId}?size=</c> answers it, with its frontier.</summary>
internal sealed record RemoteCheckpoint(string ChainId, long Size, long Height, string BlockHash, string Checkpoint, IReadOnlyList<string> Frontier);

/// <summary>
/// Downloads a backend's chains into a local table store in the <see cref="ChainTables"/> layout the embedded backend
/// writes (<see cref="LeafMaterial.WriteAsync"/>), a page of blocks at a time, so that the same
/// <see cref="Governance.LedgerAuditor"/> that audits a data folder audits the copy. Nothing downloaded is trusted:
/// the audit re-derives everything from it.
/// </summary>
internal sealed class LedgerDownload(HttpClient http, ChainTables tables, ProgressBar? progress)
{
    /// <summary>Blocks per page asked for: the endpoint's most (it also stops at its entry budget).</summary>
    private const int PageBlocks = 500;

    private int _done;
    private int _total;

    public ChainTables Tables => tables;

    /// <summary>Blocks downloaded with their entries, per chain.</summary>
    public Dictionary<string, long> Blocks { get; } = new(StringComparer.Ordinal);

    /// <summary>Chains whose entries came with their records (chains of records); the others are leaf material only.</summary>
    public HashSet<string> RecordChains { get; } = new(StringComparer.Ordinal);

    /// <summary>Every chain the backend holds a checkpoint of.</summary>
    public async Task<IReadOnlyList<RemoteChain>> ListChainsAsync(CancellationToken cancellationToken)
    {
        var list = await GetAsync<JsonElement>("api/ledger/checkpoints", cancellationToken);
        return list.GetProperty("chains").EnumerateArray()
            .Select(c => new RemoteChain(c.GetProperty("chainId").GetString()!, c.GetProperty("height").GetInt64(), c.GetProperty("size").GetInt64()))
            .ToList();
    }

    /// <summary>Adds blocks to the progress bar's total.</summary>
    public void Expect(long blocks)
    {
        _total += (int)Math.Min(blocks, int.MaxValue - _total);
        progress?.Show(_done, _total);
    }

    /// <summary>Downloads a chain's blocks from <paramref name="fromHeight"/> to its head, with every entry's leaf material, into <see cref="Tables"/>.</summary>
    public async Task DownloadAsync(string chainId, long fromHeight, CancellationToken cancellationToken)
    {
        long? next = fromHeight;
        while (next is { } from)
        {
            var page = await PageAsync(chainId, from, PageBlocks, entries: true, cancellationToken);
            if (page.Records)
            {
                RecordChains.Add(chainId);
            }

            await LeafMaterial.WriteKeysAsync(tables, page.ProducerKeys, cancellationToken);
            foreach (var block in page.Blocks)
            {
                await LeafMaterial.WriteAsync(tables, chainId, block, cancellationToken);
                Blocks[chainId] = Blocks.GetValueOrDefault(chainId) + 1;
                progress?.Show(++_done, Math.Max(_total, _done));
            }

            next = page.Blocks.Count == 0 ? null : page.Next;
        }
    }

    /// <summary>One page of a chain's blocks; headers, signatures and checkpoints only when <paramref name="entries"/> is false.</summary>
    public Task<LeafPage> PageAsync(string chainId, long from, int limit, bool entries, CancellationToken cancellationToken) =>
        GetAsync<LeafPage>(
            $"api/ledger/chains/{Uri.EscapeDataString(chainId)}/blocks?from={from.ToString(CultureInfo.InvariantCulture)}&limit={limit.ToString(CultureInfo.InvariantCulture)}{(entries ? string.Empty : "&entries=false")}",
            cancellationToken);

    /// <summary>The chain's checkpoint of <paramref name="size"/> entries, with its frontier.</summary>
    public Task<RemoteCheckpoint> CheckpointAsync(string chainId, long size, CancellationToken cancellationToken) =>
        GetAsync<RemoteCheckpoint>($"api/ledger/checkpoints/{Uri.EscapeDataString(chainId)}?size={size.ToString(CultureInfo.InvariantCulture)}", cancellationToken);

    /// <summary>The RFC 9162 consistency proof between two checkpoint sizes of a chain.</summary>
    public async Task<Hash32[]> ConsistencyAsync(string chainId, long from, long to, CancellationToken cancellationToken)
    {
        var answer = await GetAsync<JsonElement>(
            $"api/ledger/chains/{Uri.EscapeDataString(chainId)}/consistency?from={from.ToString(CultureInfo.InvariantCulture)}&to={to.ToString(CultureInfo.InvariantCulture)}",
            cancellationToken);
        return answer.GetProperty("proof").EnumerateArray().Select(p => Hash32.FromHex(p.GetString()!)).ToArray();
    }

    public void Finish() => progress?.Finish();

    /// <summary>GETs and reads a JSON answer; a refusal throws <see cref="HttpRequestException"/> with the server's problem detail.</summary>
    private async Task<T> GetAsync<T>(string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(path, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new HttpRequestException($"GET {path}: {(int)response.StatusCode} {response.ReasonPhrase}: {body}", null, response.StatusCode);
        }

        return await response.Content.ReadFromJsonAsync<T>(JsonSerializerOptions.Web, cancellationToken)
            ?? throw new HttpRequestException($"GET {path}: an empty answer.");
    }
}
