namespace Btmc.Platform.Tables;

/// <summary>
/// The rules Azure Table storage enforces on names, keys and properties, so that an embedded store refuses exactly
/// what the service would refuse (code passing locally must not fail in Azure).
/// </summary>
public static class TableRules
{
    /// <summary>Custom properties per entity (255 including PartitionKey, RowKey and Timestamp).</summary>
    public const int MaxCustomProperties = 252;

    /// <summary>PartitionKey and RowKey are at most 1 KiB of UTF-16, i.e. 512 chars (Azurite enforces the same).</summary>
    public const int MaxKeyChars = 512;

    /// <summary>A string property is at most 64 KiB of UTF-16: 32 Ki chars.</summary>
    public const int MaxStringChars = 32 * 1024;

    /// <summary>A binary property is at most 64 KiB.</summary>
    public const int MaxBinaryBytes = 64 * 1024;

    /// <summary>All data of an entity (keys, names, values, as the service counts them) is at most 1 MiB.</summary>
    public const int MaxEntityBytes = 1024 * 1024;

    /// <summary>A property name is at most 255 chars.</summary>
    public const int MaxPropertyNameChars = 255;

    /// <summary>At most 100 operations per entity group transaction.</summary>
    public const int MaxTransactionActions = 100;

    /// <summary>A transaction payload is at most 4 MiB (estimated here with the entity size formula).</summary>
    public const int MaxTransactionBytes = 4 * 1024 * 1024;

    /// <summary>At most 1000 entities per query page.</summary>
    public const int MaxPageSize = 1000;

    /// <summary>The earliest Edm.DateTime the service stores (1601-01-01T00:00:00Z).</summary>
    public static readonly DateTimeOffset MinDateTime = new(1601, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly HashSet<string> ReservedNames = new(StringComparer.Ordinal)
    {
        "PartitionKey", "RowKey", "Timestamp", "ETag",
    };

    /// <summary>Table names: <c>^[A-Za-z][A-Za-z0-9]{2,62}$</c>, "tables" reserved. 400 InvalidResourceName otherwise.</summary>
    public static void ValidateTableName(string tableName)
    {
        ArgumentNullException.ThrowIfNull(tableName);
        var ok = tableName.Length is >= 3 and <= 63 && char.IsAsciiLetter(tableName[0]);
        for (var i = 1; ok && i < tableName.Length; i++)
        {
            ok = char.IsAsciiLetterOrDigit(tableName[i]);
        }

        if (!ok || string.Equals(tableName, "tables", StringComparison.OrdinalIgnoreCase))
        {
            throw new TableStoreException(400, "InvalidResourceName",
                $"The table name '{tableName}' is invalid: 3-63 ASCII letters and digits starting with a letter, not 'tables'.");
        }
    }

    /// <summary>PartitionKey / RowKey: ≤ 512 chars, none of / \ # ?, no control chars, well-formed UTF-16.</summary>
    public static void ValidateKey(string? key, string which, int? actionIndex = null)
    {
        if (key is null)
        {
            throw new TableStoreException(400, "InvalidInput", $"The {which} is missing.", actionIndex);
        }

        if (key.Length > MaxKeyChars)
        {
            throw new TableStoreException(400, "OutOfRangeInput",
                $"The {which} is {key.Length} chars; at most {MaxKeyChars} (1 KiB) are allowed.", actionIndex);
        }

        for (var i = 0; i < key.Length; i++)
        {
            var c = key[i];
            if (c is '/' or '\\' or '#' or '?' || c <= '\u001F' || c is >= '\u007F' and <= '\u009F')
            {
                throw new TableStoreException(400, "OutOfRangeInput",
                    $"The {which} contains the disallowed character U+{(int)c:X4} at index {i}.", actionIndex);
            }

            if (char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < key.Length && char.IsLowSurrogate(key[i + 1]))
                {
                    i++;
                    continue;
                }

                throw new TableStoreException(400, "InvalidInput",
                    $"The {which} contains an unpaired surrogate at index {i}.", actionIndex);
            }
        }
    }

    /// <summary>
    /// Validates keys, property names, types and sizes of an entity about to be written and returns its size as the
    /// service counts it. Throws 400 with the service's error code.
    /// </summary>
    public static int ValidateEntity(TableEntity entity, int? actionIndex = null)
    {
        ArgumentNullException.ThrowIfNull(entity);
        ValidateKey(entity.PartitionKey, "PartitionKey", actionIndex);
        ValidateKey(entity.RowKey, "RowKey", actionIndex);
        var properties = entity.Properties
            ?? throw new TableStoreException(400, "InvalidInput", "The entity has no property dictionary.", actionIndex);
        foreach (var (name, value) in properties)
        {
            ValidateProperty(name, value, actionIndex);
        }

        return CheckSize(entity.PartitionKey, entity.RowKey, properties, actionIndex);
    }

    /// <summary>Checks the property count and the entity size (after a merge, for instance); returns the size.</summary>
    public static int CheckSize(string partitionKey, string rowKey, IReadOnlyDictionary<string, object> properties, int? actionIndex = null)
    {
        if (properties.Count > MaxCustomProperties)
        {
            throw new TableStoreException(400, "TooManyProperties",
                $"The entity has {properties.Count} properties; at most {MaxCustomProperties} are allowed.", actionIndex);
        }

        long size = 4 + (2L * partitionKey.Length) + (2L * rowKey.Length);
        foreach (var (name, value) in properties)
        {
            size += 8 + (2L * name.Length) + ValueSize(value);
        }

        if (size > MaxEntityBytes)
        {
            throw new TableStoreException(400, "EntityTooLarge",
                $"The entity is {size} bytes; at most {MaxEntityBytes} (1 MiB) are allowed.", actionIndex);
        }

        return (int)size;
    }

    /// <summary>
    /// Checks an entity group transaction before anything is sent or written: 1 to 100 actions, every entity valid,
    /// one PartitionKey, each RowKey once, about 4 MiB at most. Throws 400 (413 for the size) naming the failing action.
    /// </summary>
    public static void ValidateTransaction(IReadOnlyList<TableTransactionAction> actions)
    {
        ArgumentNullException.ThrowIfNull(actions);
        if (actions.Count is 0 or > MaxTransactionActions)
        {
            throw new TableStoreException(400, "InvalidInput",
                $"A transaction holds 1 to {MaxTransactionActions} actions, not {actions.Count}.");
        }

        var partitionKey = actions[0]?.Entity?.PartitionKey;
        var rowKeys = new HashSet<string>(actions.Count, StringComparer.Ordinal);
        long totalBytes = 0;
        for (var i = 0; i < actions.Count; i++)
        {
            var action = actions[i];
            if (action?.Entity is null)
            {
                throw new TableStoreException(400, "InvalidInput", $"Action {i} has no entity.", i);
            }

            if (action.ActionType == TableTransactionActionType.Delete)
            {
                ValidateKey(action.Entity.PartitionKey, "PartitionKey", i);
                ValidateKey(action.Entity.RowKey, "RowKey", i);
                totalBytes += 4 + (2L * (action.Entity.PartitionKey.Length + action.Entity.RowKey.Length));
            }
            else
            {
                totalBytes += ValidateEntity(action.Entity, i);
            }

            if (!Enum.IsDefined(action.ActionType))
            {
                throw new TableStoreException(400, "InvalidInput", $"Action {i} has the unknown type {action.ActionType}.", i);
            }

            if (string.IsNullOrEmpty(action.IfMatch))
            {
                throw new TableStoreException(400, "InvalidInput", $"Action {i} has an empty IfMatch; use \"*\" for any version.", i);
            }

            if (!string.Equals(action.Entity.PartitionKey, partitionKey, StringComparison.Ordinal))
            {
                throw new TableStoreException(400, "InvalidInput",
                    $"Action {i} is on PartitionKey '{action.Entity.PartitionKey}', not '{partitionKey}': a transaction spans one partition.", i);
            }

            if (!rowKeys.Add(action.Entity.RowKey))
            {
                throw new TableStoreException(400, "InvalidInput",
                    $"Action {i} is on RowKey '{action.Entity.RowKey}' again: a transaction touches each entity once.", i);
            }
        }

        if (totalBytes > MaxTransactionBytes)
        {
            throw new TableStoreException(413, "RequestBodyTooLarge",
                $"The transaction carries about {totalBytes} bytes; at most {MaxTransactionBytes} (4 MiB) are allowed.");
        }
    }

    private static void ValidateProperty(string name, object? value, int? actionIndex)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new TableStoreException(400, "PropertyNameInvalid", "A property name is empty.", actionIndex);
        }

        if (ReservedNames.Contains(name))
        {
            throw new TableStoreException(400, "InvalidInput",
                $"'{name}' is a system property; it cannot be set as a custom property.", actionIndex);
        }

        if (name.Length > MaxPropertyNameChars)
        {
            throw new TableStoreException(400, "PropertyNameTooLong",
                $"The property name '{name[..32]}...' is {name.Length} chars; at most {MaxPropertyNameChars} are allowed.", actionIndex);
        }

        if (!(char.IsLetter(name[0]) || name[0] == '_'))
        {
            throw new TableStoreException(400, "PropertyNameInvalid",
                $"The property name '{name}' must start with a letter or '_'.", actionIndex);
        }

        foreach (var c in name)
        {
            if (!(char.IsLetterOrDigit(c) || c == '_'))
            {
                throw new TableStoreException(400, "PropertyNameInvalid",
                    $"The property name '{name}' contains '{c}'; names are C#-identifier-like.", actionIndex);
            }
        }

        switch (value)
        {
            case null:
                throw new TableStoreException(400, "InvalidInput",
                    $"The property '{name}' is null; leave the property out instead.", actionIndex);
            case string s when s.Length > MaxStringChars:
                throw new TableStoreException(400, "PropertyValueTooLarge",
                    $"The string property '{name}' is {s.Length} chars; at most {MaxStringChars} are allowed.", actionIndex);
            case byte[] b when b.Length > MaxBinaryBytes:
                throw new TableStoreException(400, "PropertyValueTooLarge",
                    $"The binary property '{name}' is {b.Length} bytes; at most {MaxBinaryBytes} are allowed.", actionIndex);
            case DateTimeOffset d when d.UtcDateTime < MinDateTime.UtcDateTime:
                throw new TableStoreException(400, "OutOfRangeInput",
                    $"The date property '{name}' is before 1601-01-01T00:00:00Z.", actionIndex);
            case string or byte[] or int or long or double or bool or DateTimeOffset or Guid:
                return;
            default:
                throw new TableStoreException(400, "InvalidInput",
                    $"The property '{name}' is a {value.GetType().Name}; supported: string, int, long, double, bool, DateTimeOffset, Guid, byte[].",
                    actionIndex);
        }
    }

    private static long ValueSize(object value) => value switch
    {
        string s => 4 + (2L * s.Length),
        byte[] b => 4 + b.Length,
        int => 4,
        long or double or DateTimeOffset => 8,
        bool => 1,
        Guid => 16,
        _ => 0,
    };
}
