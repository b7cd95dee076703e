namespace Btmc.Platform.Keys.KeyVault;

/// <summary>
/// A Key Vault key identifier, <c>https://{vault}/keys/{name}</c> or <c>https://{vault}/keys/{name}/{version}</c>,
/// split into its vault, name and version. Named as the official client's <c>KeyVaultKeyIdentifier</c>.
/// </summary>
public sealed record KeyVaultKeyIdentifier
{
    /// <summary>The longest key name Key Vault accepts.</summary>
    public const int MaxNameLength = 127;

    /// <summary>Parses <paramref name="id"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="id"/> is not a key identifier, or its name or version is malformed.</exception>
    public KeyVaultKeyIdentifier(Uri id)
    {
        ArgumentNullException.ThrowIfNull(id);
        var segments = id.IsAbsoluteUri && id.Query.Length == 0 && id.Fragment.Length == 0
            ? id.AbsolutePath.Trim('/').Split('/')
            : [];
        if (segments.Length is < 2 or > 3 || !string.Equals(segments[0], "keys", StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{id}' is not a Key Vault key identifier (https://{{vault}}/keys/{{name}}[/{{version}}]).", nameof(id));
        }

        ValidateName(segments[1], nameof(id));
        if (segments.Length == 3)
        {
            ValidateVersion(segments[2], nameof(id));
        }

        VaultUri = new Uri(id.GetLeftPart(UriPartial.Authority) + "/");
        Name = segments[1];
        Version = segments.Length == 3 ? segments[2] : null;
        SourceId = new Uri(VaultUri, $"keys/{Name}" + (Version is null ? "" : "/" + Version));
    }

    /// <summary>The identifier, normalised: <c>{vault}/keys/{name}[/{version}]</c> without a trailing slash.</summary>
    public Uri SourceId { get; }

    /// <summary>The vault's address, <c>https://{vault}/</c>.</summary>
    public Uri VaultUri { get; }

    /// <summary>The key's name.</summary>
    public string Name { get; }

    /// <summary>The key's version, or null for "the latest version".</summary>
    public string? Version { get; }

    /// <summary>Checks Key Vault's rule for key names: 1-127 characters, ASCII letters, digits and dashes.</summary>
    /// <exception cref="ArgumentException">The name breaks the rule.</exception>
    internal static void ValidateName(string name, string paramName)
    {
        ArgumentNullException.ThrowIfNull(name, paramName);
        if (name.Length is 0 or > MaxNameLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            throw new ArgumentException(
                $"Key name '{name}' is not 1-{MaxNameLength} ASCII letters, digits and dashes, as Key Vault requires.", paramName);
        }
    }

    /// <summary>Checks that a version is a single path segment of ASCII letters and digits (Key Vault uses 32 hex digits).</summary>
    /// <exception cref="ArgumentException">It is not.</exception>
    internal static void ValidateVersion(string version, string paramName)
    {
        ArgumentNullException.ThrowIfNull(version, paramName);
        if (version.Length is 0 or > MaxNameLength || !version.All(char.IsAsciiLetterOrDigit))
        {
            throw new ArgumentException($"Key version '{version}' is not ASCII letters and digits.", paramName);
        }
    }
}
