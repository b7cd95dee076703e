using Btmc.Ledger;

namespace Btmc.Platform.Keys.KeyVault;

/// <summary>
/// The answer to <see cref="CryptographyClient.SignAsync"/>: the identifier of the key version that signed
/// (<c>kid</c>) and the signature, raw r || s (IEEE P1363) as Key Vault returns it for EC keys.
/// </summary>
public sealed record SignResult(string KeyId, byte[] Signature, SignatureAlgorithm Algorithm);
