/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef SBC_SIP_TSX_H
#define SBC_SIP_TSX_H
#endif
