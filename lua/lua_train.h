/* lua/lua_train.h — the training functions of the `nsim` table: nsim.train and nsim.compare. */
#ifndef NS_LUA_TRAIN_H
#define NS_LUA_TRAIN_H

#include <lua.h>

/* Add nsim.train and nsim.compare to the table on the top of the stack. */
void ns_lua_open_train(lua_State *L);

#endif
