using System.Globalization;
using Btmc.Chains;
using Btmc.Ledger;
using Btmc.Supply;

namespace Btmc.Functions.Ledger;

/// <summary>
/// Checkpoints and consistency proofs (docs/ledger-format.md, "Checkpoints"): hash-only material, readable without a
/// credential, so that anyone — an auditor, a witness, a member keeping its own copy — can hold the operator to what
/// it signed.
/// </summary>
public static class CheckpointEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/ledger/checkpoints", ListLatestAsync).WithName(FunctionNames.ListCheckpoints);
        app.MapGet("/api/ledger/checkpoints/root", GetRootAsync).WithName(FunctionNames.GetRootCheckpoint);
        app.MapGet("/api/ledger/checkpoints/{chainId}", GetCheckpointAsync).WithName(FunctionNames.GetCheckpoint);
        app.MapGet("/api/ledger/chains/{chainId}/consistency", GetConsistencyAsync).WithName(FunctionNames.GetConsistencyProof);
    }

    /// <summary>The latest checkpoint of every chain.</summary>
    private static async Task<IResult> ListLatestAsync(SupplyBackend backend, CancellationToken cancellationToken)
    {
        var reader = backend.Reader.Chain;
        var chains = new List<object>();
        foreach (var chainId in await reader.KnownChainsAsync(backend.ChainIds, cancellationToken))
        {
            if (await reader.FindHeadAsync(chainId, cancellationToken) is { } head
                && await reader.GetBlockAsync(chainId, head.Height, cancellationToken) is { Checkpoint: not null } block)
            {
                chains.Add(await ViewAsync(backend, block, withFrontier: false, cancellationToken));
            }
        }

        return Results.Json(new { chains });
    }

    /// <summary>The newest root checkpoint, or round <c>round</c>'s: the signed note and the chain checkpoints it commits to.</summary>
    private static async Task<IResult> GetRootAsync(string? round, SupplyBackend backend, CancellationToken cancellationToken)
    {
        long? wanted = null;
        if (round is not null)
        {
            if (!long.TryParse(round, NumberStyles.None, CultureInfo.InvariantCulture, out var r))
            {
                return Problems.OfField(StatusCodes.Status400BadRequest, "Invalid round", $"round '{round}' is not a round number.", "round");
            }

            wanted = r;
        }

        var root = await new RootCheckpoints(backend.Reader.Chain).GetAsync(wanted, cancellationToken);
        return root is null
            ? Problems.NotFound(wanted is null ? "No root checkpoint has been sealed yet." : $"Round {wanted} has no root checkpoint.")
            : Results.Json(new { round = root.Round, checkpoint = root.Note, chains = root.Chains });
    }

    /// <summary>A chain's checkpoint at <c>size</c>, or its latest; with the frontier, so a client can append to it.</summary>
    private static async Task<IResult> GetCheckpointAsync(string chainId, string? size, SupplyBackend backend, CancellationToken cancellationToken)
    {
        var checkpoints = backend.Store.Checkpoints;
        var head = await checkpoints.Reader.FindHeadAsync(chainId, cancellationToken);
        if (head is null)
        {
            return Problems.NotFound($"No chain '{chainId}'.");
        }

        StoredBlock? block;
        if (size is null)
        {
            block = await checkpoints.Reader.GetBlockAsync(chainId, head.Height, cancellationToken);
        }
        else if (!long.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out var wanted) || wanted < 1)
        {
            return Problems.OfField(StatusCodes.Status400BadRequest, "Invalid size", $"size '{size}' is not a positive whole number of entries.", "size");
        }
        else
        {
            block = await checkpoints.FindBlockBySizeAsync(chainId, wanted, head, cancellationToken);
        }

        return block is { Checkpoint: not null }
            ? Results.Json(await ViewAsync(backend, block, withFrontier: true, cancellationToken))
            : Problems.NotFound(size is null ? $"Chain '{chainId}' has no checkpoint yet." : $"No block of chain '{chainId}' ends at size {size}: checkpoints exist only at block boundaries.");
    }

    /// <summary>PROOF(from, D[to]) of RFC 9162 between two checkpoint sizes of a chain.</summary>
    private static async Task<IResult> GetConsistencyAsync(string chainId, string? from, string? to, SupplyBackend backend, CancellationToken cancellationToken)
    {
        if (!long.TryParse(from, NumberStyles.None, CultureInfo.InvariantCulture, out var fromSize) || fromSize < 1)
        {
            return Problems.OfField(StatusCodes.Status400BadRequest, "Invalid from", $"from '{from}' is not a positive whole number of entries.", "from");
        }

        if (!long.TryParse(to, NumberStyles.None, CultureInfo.InvariantCulture, out var toSize) || toSize < fromSize)
        {
            return Problems.OfField(StatusCodes.Status400BadRequest, "Invalid to", $"to '{to}' is not a whole number of entries at least from ({fromSize}).", "to");
        }

        Hash32[] proof;
        try
        {
            proof = await backend.Store.Checkpoints.ConsistencyProofAsync(chainId, fromSize, toSize, cancellationToken);
        }
        catch (ArgumentException ex)
        {
            return Problems.OfField(StatusCodes.Status400BadRequest, "No such proof", ex.Message, ex.ParamName == "fromSize" ? "from" : "to");
        }

        return Results.Json(new { chainId, from = fromSize, to = toSize, proof = proof.Select(h => h.ToHex()) });
    }

    private static async Task<object> ViewAsync(SupplyBackend backend, StoredBlock block, bool withFrontier, CancellationToken cancellationToken)
    {
        var key = await backend.Reader.Chain.GetProducerKeyAsync(block.Header.KeyId, cancellationToken);
        var frontier = withFrontier ? await backend.Store.Checkpoints.FrontierOfAsync(block, cancellationToken) : null;
        return new
        {
            chainId = block.Header.ChainId,
            size = block.TotalEntries,
            height = block.Header.Height,
            blockHash = block.BlockHash.ToHex(),
            checkpoint = block.Checkpoint,
            producerId = block.Header.ProducerId,
            producerKey = key,
            frontier = frontier?.Nodes.Select(n => n.ToHex()),
        };
    }
}
