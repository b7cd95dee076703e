namespace Btmc.Platform.Keys.KeyVault;

/// <summary>
/// A key's attributes and tags from a key bundle (<c>attributes</c>, <c>tags</c>, <c>managed</c>); times are the
/// service's Unix seconds. A subset of the official client's <c>KeyProperties</c>, under the same names.
/// </summary>
public sealed record KeyProperties(
    bool? Enabled,
    DateTimeOffset? NotBefore,
    DateTimeOffset? ExpiresOn,
    DateTimeOffset? CreatedOn,
    DateTimeOffset? UpdatedOn,
    string? RecoveryLevel,
    int? RecoverableDays,
    bool? Exportable,
    bool Managed,
    IReadOnlyDictionary<string, string> Tags);
