namespace Btmc.Governance;

/// <summary>The parameters a <see cref="SetParameter"/> proposal may change, with their defaults and ranges.</summary>
public static class GovernanceParameters
{
    /// <summary>The most producers one vote may name.</summary>
    public const string VoteMaxProducers = "vote.max-producers";

    /// <summary>How far ahead a proposal's expiry may be, in hours.</summary>
    public const string ProposalMaxLifetimeHours = "proposal.max-lifetime-hours";

    public static IReadOnlyDictionary<string, (long Default, long Min, long Max)> Known { get; } = new Dictionary<string, (long, long, long)>(StringComparer.Ordinal)
    {
        [VoteMaxProducers] = (30, 1, 50),
        [ProposalMaxLifetimeHours] = (720, 1, 8760),
    };

    public static Dictionary<string, long> Defaults() => Known.ToDictionary(p => p.Key, p => p.Value.Default, StringComparer.Ordinal);
}
