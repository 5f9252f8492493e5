//! Solidity types and the token / wallet / Permit2 / proxy functions the rail calls (ABI only).
#![allow(missing_docs, unreachable_pub)]

alloy::sol! {
    /// EIP-3009 `TransferWithAuthorization`, the EIP-712 struct the payer signs.
    #[derive(Debug, PartialEq, Eq)]
    struct TransferWithAuthorization {
        address from;
        address to;
        uint256 value;
        uint256 validAfter;
        uint256 validBefore;
        bytes32 nonce;
    }

    /// The calls of an EIP-3009 token (Circle FiatToken v2.2 has both settlement overloads).
    interface IEip3009 {
        function balanceOf(address account) external view returns (uint256);
        function authorizationState(address authorizer, bytes32 nonce) external view returns (bool);
        function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external;
        function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature) external;
    }

    /// Permit2's `TokenPermissions`, a member of the signed [`PermitWitnessTransferFrom`].
    #[derive(Debug, PartialEq, Eq)]
    struct TokenPermissions {
        address token;
        uint256 amount;
    }

    /// The x402 `exact` witness: where the funds go and from when (x402ExactPermit2Proxy).
    #[derive(Debug, PartialEq, Eq)]
    struct Witness {
        address to;
        uint256 validAfter;
    }

    /// The EIP-712 struct a Permit2 `exact` payer signs (domain: `Permit2`, chain id, Permit2);
    /// `spender` is x402ExactPermit2Proxy.
    #[derive(Debug, PartialEq, Eq)]
    struct PermitWitnessTransferFrom {
        TokenPermissions permitted;
        address spender;
        uint256 nonce;
        uint256 deadline;
        Witness witness;
    }

    /// EIP-2612 `Permit`, signed under the token's own domain (`eip2612GasSponsoring`).
    #[derive(Debug, PartialEq, Eq)]
    struct Permit {
        address owner;
        address spender;
        uint256 value;
        uint256 nonce;
        uint256 deadline;
    }

    /// Permit2's `ISignatureTransfer.PermitTransferFrom`, as the proxy takes it.
    #[derive(Debug, PartialEq, Eq)]
    struct PermitTransferFrom {
        TokenPermissions permitted;
        uint256 nonce;
        uint256 deadline;
    }

    /// x402ExactPermit2Proxy's EIP-2612 permit parameters.
    #[derive(Debug, PartialEq, Eq)]
    struct EIP2612Permit {
        uint256 value;
        uint256 deadline;
        bytes32 r;
        bytes32 s;
        uint8 v;
    }

    /// The token calls of a Permit2 rail (ERC-20 + EIP-2612).
    interface IErc20Permit {
        function balanceOf(address account) external view returns (uint256);
        function allowance(address owner, address spender) external view returns (uint256);
        function nonces(address owner) external view returns (uint256);
    }

    /// Permit2's unordered-nonce bitmap: bit `nonce & 0xff` of word `nonce >> 8` is set once used.
    interface IPermit2 {
        function nonceBitmap(address owner, uint256 wordPos) external view returns (uint256);
    }

    /// x402ExactPermit2Proxy's settlement calls.
    interface IX402ExactPermit2Proxy {
        function settle(PermitTransferFrom permit, address owner, Witness witness, bytes signature) external;
        function settleWithPermit(EIP2612Permit permit2612, PermitTransferFrom permit, address owner, Witness witness, bytes signature) external;
    }

    /// EIP-1271 smart-contract wallets.
    interface IErc1271 {
        function isValidSignature(bytes32 hash, bytes signature) external view returns (bytes4 magicValue);
    }
}

/// `isValidSignature` success value.
pub(crate) const ERC1271_MAGIC: [u8; 4] = [0x16, 0x26, 0xba, 0x7e];

/// Suffix of an ERC-6492 wrapped signature (a smart wallet that is not deployed yet).
pub(crate) const ERC6492_SUFFIX: [u8; 32] = [
    0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64,
    0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92,
];
