using System.Globalization;
using Btmc.Chains;
using Btmc.Functions.Partners;
using Btmc.Ledger;
using Btmc.Supply;
using Btmc.Trade;

namespace Btmc.Functions.Ledger;

/// <summary>
/// Leaf material for independent verification (docs/ledger-format.md, "Independent verification"): a chain's blocks,
/// a page at a time, with every entry's leaf material, so that <c>btmc verify-chain --url</c> re-derives every hash,
/// root, signature, the producer schedule and every checkpoint itself instead of trusting <c>GET /api/ledger/verify</c>.
/// Any authenticated caller may read it (docs/partners.md says what a partner learns from it); supply event bodies are
/// never part of it, nor are trade records (docs/trade.md).
/// </summary>
public static class LeafEndpoints
{
    /// <summary>The most blocks one page holds.</summary>
    public const int MaxBlocks = 500;

    /// <summary>The entries after which a page stops adding blocks (it always holds at least one), so that a page of large blocks stays bounded.</summary>
    public const int EntryBudget = 20_000;

    public const int DefaultBlocks = 100;

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/api/ledger/chains/{chainId}/blocks", ListBlocksAsync).WithName(FunctionNames.ListBlocks).RequireCaller();

    /// <summary>
    /// Blocks <c>from</c> (default 0) on, at most <c>limit</c> (default 100, at most 500) and about
    /// <see cref="EntryBudget"/> entries; <c>entries=false</c> leaves the entries out (headers, signatures and
    /// checkpoints only: what a verifier resuming after a trusted checkpoint reads of the blocks before it).
    /// </summary>
    private static async Task<IResult> ListBlocksAsync(string chainId, string? from, string? limit, string? entries, SupplyBackend backend, CancellationToken cancellationToken)
    {
        var fromHeight = 0L;
        if (from is not null && !long.TryParse(from, NumberStyles.None, CultureInfo.InvariantCulture, out fromHeight))
        {
            return Problems.OfField(StatusCodes.Status400BadRequest, "Invalid from", $"from '{from}' is not a block height (a whole number, 0 or more).", "from");
        }

        var count = DefaultBlocks;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1 || count > MaxBlocks))
        {
            return Problems.OfField(StatusCodes.Status400BadRequest, "Invalid limit", $"limit '{limit}' is not a number of blocks from 1 to {MaxBlocks}.", "limit");
        }

        var withEntries = true;
        if (entries is not null && !bool.TryParse(entries, out withEntries))
        {
            return Problems.OfField(StatusCodes.Status400BadRequest, "Invalid entries", $"entries '{entries}' is neither true nor false.", "entries");
        }

        var reader = backend.Reader.Chain;
        var head = await reader.FindHeadAsync(chainId, cancellationToken);
        if (head is null)
        {
            return Problems.NotFound($"No chain '{chainId}'.");
        }

        // Supply chains hold partners' events, and the trade chain their orders, invoices and financings, whose bodies
        // other partners may not read: their leaf material only. Every other chain holds JSON records the verifier
        // needs (governance is replayed for the schedule).
        var records = !backend.ChainIds.Contains(chainId, StringComparer.Ordinal) && chainId != TradeLedger.ChainId;
        var blocks = new List<LeafBlock>();
        var keys = new Dictionary<string, EcPublicJwk>(StringComparer.Ordinal);
        var budget = 0L;
        long? next = null;
        await foreach (var block in reader.ReadBlocksAsync(chainId, fromHeight, cancellationToken))
        {
            if (blocks.Count == count || (blocks.Count > 0 && withEntries && budget + block.Header.LeafCount > EntryBudget))
            {
                next = block.Header.Height;
                break;
            }

            var stored = withEntries
                ? await reader.ReadEntriesAsync(chainId, block.Header.Height, block.BlockHash, block.Header.LeafCount, withEvents: records, cancellationToken)
                : null;
            blocks.Add(LeafMaterial.From(block, stored, records));
            budget += block.Header.LeafCount;
            if (!keys.ContainsKey(block.Header.KeyId) && await reader.GetProducerKeyAsync(block.Header.KeyId, cancellationToken) is { } key)
            {
                keys[block.Header.KeyId] = key;
            }
        }

        return Results.Json(new LeafPage(chainId, records, fromHeight, blocks, keys, next));
    }
}
