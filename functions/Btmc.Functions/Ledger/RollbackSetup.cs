using Btmc.Chains;

namespace Btmc.Functions.Ledger;

/// <summary>
/// The rollback check on start (docs/ledger-format.md, "Rollback refusal"): compares the stored chains with the
/// checkpoints witnesses cosigned — the ledger's own <c>cosignatures</c> table and the state folders named by
/// <c>Ledger:WitnessStates</c> (';'-separated; a witness's <c>--state</c> folder, kept outside the data so that a
/// restore of the data does not restore it) — and keeps the verdict for every later commit and capture.
/// </summary>
public static class RollbackSetup
{
    public static async Task<RollbackGuard> StartAsync(IConfiguration configuration, ChainReader reader, IEnumerable<string> supplyChainIds, CancellationToken cancellationToken)
    {
        var folders = (configuration["Ledger:WitnessStates"] ?? "")
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(Path.GetFullPath)
            .ToList();
        var guard = new RollbackGuard(reader, folders);
        await guard.CheckAsync(supplyChainIds, cancellationToken);
        return guard;
    }

    /// <summary>The 503 a capture gets while sealing is refused: which chains, their sizes and roots, and the cosigned ones.</summary>
    public static IResult Problem(RollbackGuard guard) => Problems.Of(StatusCodes.Status503ServiceUnavailable, "Sealing refused",
        "This ledger's stored chains are behind or off checkpoints that witnesses cosigned, so it refuses to seal (it would re-issue witnessed sizes with other contents): "
        + string.Join("; ", guard.Findings.Select(f => f.Describe())) + ". " + Recovery);

    /// <summary>How an operator recovers, for the log and the problem.</summary>
    public const string Recovery =
        "To recover, restore the newest copy of the data, one that holds every cosigned size (check with `btmc verify-chain --data <folder>` and the checkpoints), and start again. "
        + "Do not remove the witness state or the cosignatures to force sealing: that re-issues witnessed sizes with other contents, a fork every witness will report.";
}
