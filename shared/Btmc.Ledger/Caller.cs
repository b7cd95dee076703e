namespace Btmc.Ledger;

/// <summary>What a partner may do (docs/partners.md, "Roles").</summary>
[Flags]
public enum PartnerRoles
{
    None = 0,

    /// <summary>Captures events and submits compute jobs; sees its own data and what concerns it.</summary>
    Partner = 1,

    /// <summary>Reads everything; writes nothing.</summary>
    Auditor = 2,

    /// <summary>Reads everything and, on a ledger without a committee, manages the partner registry.</summary>
    Operator = 4,

    /// <summary>Finances receivables (docs/trade.md, "Receivables finance"): sees the receivables offered for finance
    /// and requests to finance them.</summary>
    Financier = 8,
}

/// <summary>
/// Who is asking: an authenticated partner of the registry, with its roles, the GS1 company prefixes it owns (whose
/// identifiers it sees and may commission; <c>*</c> is every prefix) and the prefixes it was granted to commission under
/// on their owners' behalf. Every read and write is checked against it.
/// </summary>
public sealed record Caller(string PartnerId, PartnerRoles Roles, IReadOnlyList<string> Prefixes, IReadOnlyList<string> GrantedPrefixes)
{
    /// <summary>The prefix that stands for every prefix (the embedded default's one-company partner).</summary>
    public const string AnyPrefix = "*";

    /// <summary>Auditors and operators see every partner's data.</summary>
    public bool SeesEverything => (Roles & (PartnerRoles.Auditor | PartnerRoles.Operator)) != 0;

    public bool Has(PartnerRoles role) => (Roles & role) == role;

    /// <summary>Names every role in <paramref name="roles"/>, lower case, comma-separated (<c>partner,auditor</c>).</summary>
    public static string Format(PartnerRoles roles) =>
        string.Join(',', new[] { PartnerRoles.Partner, PartnerRoles.Auditor, PartnerRoles.Operator, PartnerRoles.Financier }.Where(r => (roles & r) != 0).Select(r => r.ToString().ToLowerInvariant()));

    /// <summary>A role's name as written in records and requests; null for an unknown name.</summary>
    public static PartnerRoles? ParseRole(string name) => name switch
    {
        "partner" => PartnerRoles.Partner,
        "auditor" => PartnerRoles.Auditor,
        "operator" => PartnerRoles.Operator,
        "financier" => PartnerRoles.Financier,
        _ => null,
    };
}
