namespace Btmc.Governance;

/// <summary>A governance request or record that breaks a rule: which field, and why. Answered 400/409 problem+json.</summary>
public sealed class GovernanceRejected(string field, string message, bool conflict = false) : Exception(message)
{
    /// <summary>The member of the request (or payload line) that is wrong.</summary>
    public string Field { get; } = field;

    /// <summary>True when the request is well formed but conflicts with the ledger's state (a duplicate, an executed or
    /// expired proposal): 409 rather than 400.</summary>
    public bool Conflict { get; } = conflict;
}
