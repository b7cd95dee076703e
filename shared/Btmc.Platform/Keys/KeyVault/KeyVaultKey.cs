namespace Btmc.Platform.Keys.KeyVault;

/// <summary>
/// A key as Key Vault returns it from Get Key or Create Key: its identifier <c>https://{vault}/keys/{name}/{version}</c>
/// (the <c>kid</c>), name, version, public JSON Web Key and properties. Named as the official client's
/// <c>KeyVaultKey</c>.
/// </summary>
public sealed record KeyVaultKey(Uri Id, string Name, string? Version, JsonWebKey Key, KeyProperties Properties)
{
    /// <summary>The key's type (<c>kty</c>).</summary>
    public KeyType KeyType => Key.KeyType;

    /// <summary>The operations the key permits (<c>key_ops</c>).</summary>
    public IReadOnlyList<KeyOperation> KeyOperations => Key.KeyOps;
}
