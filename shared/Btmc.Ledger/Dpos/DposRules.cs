namespace Btmc.Ledger.Dpos;

/// <summary>
/// Everything that decides who may sign which block of a chain: the slot clock, the ledger's domain id, and the
/// electorate of each round — the registered producers and their votes as the governance chain recorded them before
/// the round before (docs/dpos.md, "Electorate"). Shared by the sealer, which signs with the slot's producer key, and
/// by <see cref="ChainVerifier"/>, which checks it.
/// </summary>
/// <param name="Clock">Slots and rounds.</param>
/// <param name="Domain">The ledger's domain id (deployment and governance chain), part of every seed.</param>
/// <param name="Electorate">The candidates and their votes for a round; empty when none are registered.</param>
public sealed record DposRules(SlotClock Clock, string Domain, Func<long, IReadOnlyCollection<ProducerCandidate>> Electorate)
{
    /// <summary>The producer of each slot of <paramref name="round"/> on <paramref name="chainId"/>, given the signature of
    /// the chain's last block before the round (empty when there is none).</summary>
    /// <exception cref="InvalidOperationException">No producer is registered for the round.</exception>
    public IReadOnlyList<ProducerCandidate> Slots(string chainId, long round, ReadOnlySpan<byte> previousSignature)
    {
        var candidates = Electorate(round);
        if (candidates.Count == 0)
        {
            throw new InvalidOperationException($"No block producer is registered for round {round}.");
        }

        return ProducerSchedule.Draw(candidates, ProducerSchedule.Seed(Domain, chainId, round, previousSignature), Clock.SlotsPerRound);
    }
}
