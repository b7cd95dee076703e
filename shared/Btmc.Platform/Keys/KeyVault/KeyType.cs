namespace Btmc.Platform.Keys.KeyVault;

/// <summary>A JSON Web Key type (<c>kty</c>) as Key Vault names it; any string the service sends is kept.</summary>
public readonly record struct KeyType(string Value)
{
    /// <summary>An elliptic-curve key held in software-protected storage.</summary>
    public static KeyType Ec { get; } = new("EC");

    /// <summary>An elliptic-curve key held in a hardware security module.</summary>
    public static KeyType EcHsm { get; } = new("EC-HSM");

    /// <summary>True for <see cref="Ec"/> and <see cref="EcHsm"/>.</summary>
    public bool IsEc => this == Ec || this == EcHsm;

    public static implicit operator KeyType(string value) => new(value);

    public override string ToString() => Value;
}
