// SPDX-License-Identifier: MIT
// compute-gateway test double of MegaETH's USDm ("MegaUSD"): an OpenZeppelin 5.x ERC-20 with
// EIP-2612 `permit` (EIP-712 domain name "MegaUSD", version "1"), 18 decimals, no EIP-3009,
// and an open `mint` for tests. Installed at the USDm address with anvil_setCode.
//
// `name()` and `symbol()` are constants rather than ERC20's storage strings: the runtime code is
// copied to the canonical address, where the constructor never ran and storage starts empty.
// The EIP-712 name and version live in immutables, and OpenZeppelin's EIP712 rebuilds the
// domain separator with `address(this)` when it runs at another address than it was deployed at.
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

contract TestMegaUSD is ERC20, ERC20Permit {
    constructor() ERC20("MegaUSD", "USDm") ERC20Permit("MegaUSD") {}

    function name() public pure override returns (string memory) {
        return "MegaUSD";
    }

    function symbol() public pure override returns (string memory) {
        return "USDm";
    }

    /// Test only: anyone may mint.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
