namespace Btmc.Platform.Keys.KeyVault;

/// <summary>
/// What <see cref="KeyClient.CreateEcKeyAsync"/> creates: an EC key (<c>kty</c> "EC", or "EC-HSM" when
/// <see cref="HardwareProtected"/>) on P-256 or P-256K. Named as the official client's <c>CreateEcKeyOptions</c>;
/// unlike it, <see cref="KeyOperations"/> starts as sign and verify rather than empty, and the curve defaults to
/// P-256 rather than to the service's choice.
/// </summary>
public sealed class CreateEcKeyOptions
{
    /// <summary>Options for a key called <paramref name="name"/> (1-127 letters, digits and dashes).</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> breaks Key Vault's naming rule.</exception>
    public CreateEcKeyOptions(string name, bool hardwareProtected = false)
    {
        KeyVaultKeyIdentifier.ValidateName(name, nameof(name));
        Name = name;
        HardwareProtected = hardwareProtected;
    }

    /// <summary>The key's name.</summary>
    public string Name { get; }

    /// <summary>True for a key held in an HSM (<c>kty</c> "EC-HSM"; a Premium vault or a Managed HSM).</summary>
    public bool HardwareProtected { get; }

    /// <summary>The curve: <see cref="KeyCurveName.P256"/> (when null) or <see cref="KeyCurveName.P256K"/>.</summary>
    public KeyCurveName? CurveName { get; set; }

    /// <summary>The operations the key permits; sign and verify unless changed.</summary>
    public IList<KeyOperation> KeyOperations { get; } = [KeyOperation.Sign, KeyOperation.Verify];

    /// <summary>Whether the key is enabled; the service's default (enabled) when null.</summary>
    public bool? Enabled { get; set; }

    /// <summary>When the key becomes usable, if not at once.</summary>
    public DateTimeOffset? NotBefore { get; set; }

    /// <summary>When the key stops being usable, if ever.</summary>
    public DateTimeOffset? ExpiresOn { get; set; }

    /// <summary>Tags stored with the key.</summary>
    public IDictionary<string, string> Tags { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
